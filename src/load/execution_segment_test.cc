#include "load/execution_segment.h"

#include <gtest/gtest.h>

#include <random>

namespace loadcell {
namespace {

ExecutionSegment Seg(const std::string& segment, const std::string& sequence = "", int index = 0) {
  auto s = ExecutionSegment::FromArgs(segment, sequence, index);
  EXPECT_TRUE(s.ok()) << segment << " " << sequence << ": " << (s.ok() ? "" : s.error().message);
  return s.ok() ? *s : ExecutionSegment();
}

std::vector<ExecutionSegment> All(const std::string& sequence, int n) {
  std::vector<ExecutionSegment> out;
  for (int i = 1; i <= n; ++i) out.push_back(Seg("", sequence, i));
  return out;
}

TEST(ExecutionSegment, WholeTestIsEverything) {
  ExecutionSegment whole;
  EXPECT_TRUE(whole.whole());
  EXPECT_EQ(whole.Scale(1001), 1001);
  EXPECT_EQ(whole.GlobalIndex(41), 41);
  EXPECT_EQ(whole.ToString(), "0:1");
  EXPECT_TRUE(Seg("1/1").whole());
}

// The table in k6's lib/execution_segment.go for 0:1/2, 1/2:3/4, 3/4:1 (values 1..12).
TEST(ExecutionSegment, MatchesK6sStripedTable) {
  auto s = All("0,1/2,3/4,1", 3);
  const int64_t want[3][12] = {
      {1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6}, {0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3}, {0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3}};
  for (int i = 0; i < 3; ++i) {
    for (int v = 1; v <= 12; ++v) EXPECT_EQ(s[static_cast<size_t>(i)].Scale(v), want[i][v - 1]) << i << " " << v;
  }
  // Iterators: 0 2 4 ... / 1 5 9 ... / 3 7 11 ...
  EXPECT_EQ(s[0].GlobalIndex(3), 6);
  EXPECT_EQ(s[1].GlobalIndex(2), 9);
  EXPECT_EQ(s[2].GlobalIndex(2), 11);
}

TEST(ExecutionSegment, SharesAddUpExactlyWithRemainders) {
  // 7 VUs over 4 generators, 1001 iterations over 4.
  int64_t vus = 0, iterations = 0;
  std::vector<int64_t> v;
  for (int k = 1; k <= 4; ++k) {
    ExecutionSegment s = Seg(std::to_string(k) + "/4");
    v.push_back(s.Scale(7));
    vus += s.Scale(7);
    iterations += s.Scale(1001);
  }
  EXPECT_EQ(vus, 7);
  EXPECT_EQ(iterations, 1001);
  EXPECT_EQ(v, (std::vector<int64_t>{2, 2, 2, 1}));
  EXPECT_EQ(Seg("1/4").Scale(1001), 251);
}

// Every item belongs to exactly one segment, for uneven sequences too, and every share is
// monotone in the value (a ramp never takes a VU back from one generator to give it to another).
TEST(ExecutionSegment, EveryItemOwnedOnceAndSharesMonotone) {
  for (std::string seq : {"0,1/3,2/3,1", "0,3/5,14/15,1", "0,0.1,0.35,50%,1", "0,1/7,2/7,3/7,4/7,5/7,6/7,1"}) {
    size_t n = 1;
    for (char c : seq) n += c == ',' ? 1 : 0;
    auto segs = All(seq, static_cast<int>(n - 1));
    for (int64_t i = 0; i < 500; ++i) {
      int owners = 0;
      for (const auto& s : segs) owners += s.Owns(i) ? 1 : 0;
      ASSERT_EQ(owners, 1) << seq << " item " << i;
    }
    for (int64_t v = 0; v < 300; ++v) {
      int64_t sum = 0;
      for (const auto& s : segs) {
        sum += s.Scale(v);
        EXPECT_LE(s.Scale(v), s.Scale(v + 1));
      }
      ASSERT_EQ(sum, v) << seq;
    }
    for (const auto& s : segs) {
      for (int64_t k = 0; k < 100; ++k) {
        int64_t g = s.GlobalIndex(k);
        EXPECT_TRUE(s.Owns(g));
        EXPECT_EQ(s.Scale(g), k);  // exactly k owned items come before it
      }
    }
  }
}

TEST(ExecutionSegment, K6FormsAndSequences) {
  ExecutionSegment a = Seg("1/4:1/2");
  EXPECT_EQ(a.ToString(), "1/4:1/2");
  EXPECT_EQ(a.SequenceString(), "0,1/4,1/2,1");
  ExecutionSegment b = Seg("25%:0.5", "0,1/4,1/2,1");
  EXPECT_EQ(b.index(), 1u);
  ExecutionSegment c = Seg("", "0,1/4,1/2,1", 2);
  EXPECT_EQ(c.ToString(), "1/4:1/2");
  EXPECT_EQ(Seg("3/4").ToString(), "1/2:3/4");
  EXPECT_EQ(Seg("3/4").count(), 4u);
}

TEST(ExecutionSegment, BadArgumentsAreNamed) {
  auto err = [](const std::string& seg, const std::string& seq, int i) {
    auto s = ExecutionSegment::FromArgs(seg, seq, i);
    return s.ok() ? std::string("ok") : s.error().message;
  };
  EXPECT_EQ(err("5/4", "", 0), "--segment 5/4: expected K/N with 1 <= K <= N (the K-th of N generators), or FROM:TO");
  EXPECT_EQ(err("0/4", "", 0).substr(0, 14), "--segment 0/4:");
  EXPECT_EQ(err("half", "", 0), "--segment half: expected K/N (the K-th of N generators) or FROM:TO");
  EXPECT_EQ(err("1/2:1/4", "", 0), "--segment 1/2:1/4: need 0 <= FROM < TO <= 1");
  EXPECT_EQ(err("", "0,1/2,1/4,1", 1), "--segments: the sequence must grow: 1/4 is not above 1/2");
  EXPECT_EQ(err("", "0,1/2", 1), "--segments: a sequence starts at 0 and ends at 1 (e.g. 0,1/4,1/2,1)");
  EXPECT_EQ(err("", "0,x,1", 1), "--segments: `x` is not a fraction (1/4, 0.25 or 25%)");
  EXPECT_EQ(err("", "0,1/2,1", 3), "--segment-index: there is no segment 3 in a sequence of 2");
  EXPECT_EQ(err("", "0,1/2,1", 0), "--segments: give --segment-index too (1 for the first segment)");
  EXPECT_EQ(err("", "", 2), "--segment-index: needs --segments (the sequence it indexes)");
  EXPECT_EQ(err("1/3:2/3", "0,1/4,1/2,1", 0), "--segment 1/3:2/3: not a segment of --segments 0,1/4,1/2,1");
}

}  // namespace
}  // namespace loadcell
