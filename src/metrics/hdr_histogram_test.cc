#include "metrics/hdr_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace loadcell {
namespace {

// The exact percentile of a sorted array by HdrHistogram's definition: the smallest value
// whose cumulative count reaches ceil(p/100 * n), at least 1.
int64_t ExactPercentile(const std::vector<int64_t>& sorted, double p) {
  auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<int64_t>(std::ceil(p / 100.0 * n - 1e-9));
  rank = std::clamp<int64_t>(rank, 1, static_cast<int64_t>(sorted.size()));
  return sorted[static_cast<size_t>(rank - 1)];
}

void ExpectWithinPrecision(const HdrHistogram& h, const std::vector<int64_t>& sorted, double p) {
  int64_t exact = ExactPercentile(sorted, p);
  int64_t got = h.ValueAtPercentile(p);
  // 3 significant digits: the reported value is in the same bucket, at most 0.1% away.
  EXPECT_TRUE(h.ValuesAreEquivalent(got, exact)) << "p" << p << " got " << got << " exact " << exact;
  EXPECT_LE(std::abs(static_cast<double>(got - exact)), 0.001 * static_cast<double>(exact) + 1) << "p" << p;
}

TEST(HdrHistogram, PercentilesMatchSortedArrays) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> latency(std::log(20000.0), 1.2);  // ~20 ms median, heavy tail
  for (int round = 0; round < 5; ++round) {
    HdrHistogram h;
    std::vector<int64_t> values;
    for (int i = 0; i < 100000; ++i) {
      auto v = std::clamp<int64_t>(static_cast<int64_t>(latency(rng)), 1, 3'600'000'000);
      values.push_back(v);
      h.Record(v);
    }
    std::sort(values.begin(), values.end());
    for (double p : {0.0, 1.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0}) {
      ExpectWithinPrecision(h, values, p);
    }
    EXPECT_EQ(h.min(), values.front());
    EXPECT_EQ(h.max(), values.back());
    EXPECT_EQ(h.total_count(), 100000);
    double mean = 0;
    for (int64_t v : values) mean += static_cast<double>(v);
    mean /= static_cast<double>(values.size());
    EXPECT_NEAR(h.mean(), mean, mean * 0.001);
  }
}

TEST(HdrHistogram, SmallValuesAreExact) {
  HdrHistogram h;
  for (int v = 0; v <= 2047; ++v) h.Record(v);
  for (int v = 1; v <= 2047; ++v) EXPECT_EQ(h.HighestEquivalent(v), v);
  EXPECT_EQ(h.ValueAtPercentile(50), 1023);  // 1024th of 2048 values
  EXPECT_EQ(h.ValueAtPercentile(50.01), 1024);
  EXPECT_EQ(h.ValueAtPercentile(100), 2047);
  EXPECT_EQ(h.ValueAtPercentile(0), 0);
}

TEST(HdrHistogram, KnownBucketsMatchHdrHistogram) {
  HdrHistogram h;  // 1..3.6e9 at 3 digits, as in every HdrHistogram implementation
  EXPECT_EQ(h.LowestEquivalent(10007), 10000);
  EXPECT_EQ(h.HighestEquivalent(10007), 10007);
  EXPECT_EQ(h.LowestEquivalent(100007), 99968);  // 65536..131071 in steps of 64
  EXPECT_EQ(h.HighestEquivalent(100007), 100031);
  EXPECT_EQ(h.counts_length(), 23552u);  // (22 buckets + 1) * 1024
  h.Record(1'000'000);
  EXPECT_EQ(h.ValueAtPercentile(99), h.HighestEquivalent(1'000'000));
}

TEST(HdrHistogram, MergeEqualsUnion) {
  std::mt19937_64 rng(11);
  std::exponential_distribution<double> d(1.0 / 5000);
  HdrHistogram a, b, both;
  for (int i = 0; i < 50000; ++i) {
    auto v = static_cast<int64_t>(d(rng)) + 1;
    (i % 3 == 0 ? a : b).Record(v);
    both.Record(v);
  }
  ASSERT_TRUE(a.Add(b).ok());
  EXPECT_EQ(a.total_count(), both.total_count());
  EXPECT_EQ(a.min(), both.min());
  EXPECT_EQ(a.max(), both.max());
  for (size_t i = 0; i < a.counts_length(); ++i) ASSERT_EQ(a.count_at_index(i), both.count_at_index(i)) << i;
  for (double p : {50.0, 99.0, 99.99}) EXPECT_EQ(a.ValueAtPercentile(p), both.ValueAtPercentile(p));
}

TEST(HdrHistogram, MergeRejectsOtherLayouts) {
  HdrHistogram a, b(1, 1000, 2);
  Status s = a.Add(b);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "histogram layouts differ (1..3600000000@3 vs 1..1000@2)");
}

TEST(HdrHistogram, ClampsOutOfRangeAndCountsIt) {
  HdrHistogram h(1, 1000, 3);
  h.Record(5000);
  h.Record(-3);
  h.Record(10);
  EXPECT_EQ(h.total_count(), 3);
  EXPECT_EQ(h.clamped(), 2);
  EXPECT_EQ(h.max(), 1000);
  EXPECT_EQ(h.min(), 0);
}

TEST(HdrHistogram, EmptyIsZero) {
  HdrHistogram h;
  EXPECT_EQ(h.ValueAtPercentile(99), 0);
  EXPECT_EQ(h.mean(), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
}

}  // namespace
}  // namespace loadcell
