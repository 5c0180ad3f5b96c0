#include "analysis/soak.h"

#include <random>

#include <gtest/gtest.h>

namespace loadcell {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

TEST(Soak, TheilSenIgnoresOutliers) {
  std::vector<double> x, y;
  for (int i = 0; i < 50; ++i) {
    x.push_back(i);
    y.push_back(3 * i + 7 + (i % 10 == 0 ? 500 : 0));  // every tenth point a spike
  }
  EXPECT_DOUBLE_EQ(TheilSen(x, y), 3);
}

// 100 MB/h under GC-like sawtooth noise: the known slope is inside the interval, and the
// leak is flagged.
TEST(Soak, KnownLeakIsInsideTheIntervalAndFlagged) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 2 * kMiB);
  std::vector<double> t, rss;
  for (int s = 0; s < 600; ++s) {
    t.push_back(s);
    rss.push_back(200 * kMiB + 100 * kMiB * s / 3600.0 + ((s % 30) * 0.3 * kMiB) + noise(rng));
  }
  SoakFinding f = AnalyzeSoak(t, rss, 4096 * kMiB);
  ASSERT_TRUE(f.enough);
  EXPECT_LE(f.low_mb_per_h, 100);
  EXPECT_GE(f.high_mb_per_h, 100);
  EXPECT_NEAR(f.slope_mb_per_h, 100, 15);
  EXPECT_TRUE(f.leak_suspected) << f.message;
  EXPECT_GT(f.hours_to_limit, 30);
  EXPECT_NE(f.message.find("LEAK SUSPECTED"), std::string::npos);
}

TEST(Soak, PlateauIsNotALeak) {
  std::vector<double> t, rss;
  for (int s = 0; s < 600; ++s) {
    t.push_back(s);
    rss.push_back(100 * kMiB + std::min(s, 300) * 0.2 * kMiB);  // fills for 5 minutes, then flat
  }
  SoakFinding f = AnalyzeSoak(t, rss);
  EXPECT_FALSE(f.leak_suspected) << f.message;
  EXPECT_NE(f.message.find("levelled off"), std::string::npos) << f.message;
}

TEST(Soak, FlatAndShortRuns) {
  std::vector<double> t, rss;
  for (int s = 0; s < 100; ++s) {
    t.push_back(s);
    rss.push_back(50 * kMiB + (s % 2) * 4096);
  }
  SoakFinding f = AnalyzeSoak(t, rss);
  EXPECT_FALSE(f.leak_suspected);
  EXPECT_NE(f.message.find("no significant growth"), std::string::npos) << f.message;
  SoakFinding shortrun = AnalyzeSoak({0, 1, 2}, {1, 2, 3});
  EXPECT_FALSE(shortrun.enough);
}

}  // namespace
}  // namespace loadcell
