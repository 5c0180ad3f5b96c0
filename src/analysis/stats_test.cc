#include "analysis/stats.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

// R's ?wilcox.test example: W = 35; with exact = FALSE, correct = TRUE the two-sided
// p-value is 2 * (1 - pnorm((35 - 25 - 0.5) / sqrt(10 * 5 * 16 / 12))) = 0.2446.
TEST(Stats, MannWhitneyMatchesR) {
  std::vector<double> x{0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
  std::vector<double> y{1.15, 0.88, 0.90, 0.74, 1.21};
  MannWhitney r = MannWhitneyU(x, y);
  EXPECT_DOUBLE_EQ(r.u, 35);
  EXPECT_NEAR(r.p_value, 0.2446, 0.0005);
  MannWhitney swapped = MannWhitneyU(y, x);
  EXPECT_DOUBLE_EQ(swapped.u, 15);
  EXPECT_NEAR(swapped.p_value, r.p_value, 1e-12);
}

TEST(Stats, MannWhitneyTiesAndDegenerateInputs) {
  // All tied: no evidence either way.
  EXPECT_EQ(MannWhitneyU({1, 1, 1}, {1, 1}).p_value, 1);
  EXPECT_EQ(MannWhitneyU({}, {1, 2}).p_value, 1);
  // Fully separated samples of 20: far beyond any significance level.
  std::vector<double> a, b;
  for (int i = 0; i < 20; ++i) {
    a.push_back(i);
    b.push_back(100 + i);
  }
  EXPECT_LT(MannWhitneyU(a, b).p_value, 1e-6);
}

TEST(Stats, QuantileIsRType7) {
  EXPECT_DOUBLE_EQ(Quantile({4, 1, 3, 2}, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(Median({5, 1, 3}), 3);
  EXPECT_DOUBLE_EQ(Median({4, 1, 3, 2}), 2.5);
}

TEST(Stats, BootstrapIntervalCoversTheRatioAndIsReproducible) {
  std::vector<double> base, cur;
  for (int i = 0; i < 60; ++i) {
    base.push_back(10 + (i % 7) * 0.1);
    cur.push_back(13 + (i % 7) * 0.13);
  }
  auto ratio = [](const std::vector<double>& b, const std::vector<double>& c) { return Median(c) / Median(b); };
  Interval a = BootstrapInterval(base, cur, ratio);
  Interval again = BootstrapInterval(base, cur, ratio);
  EXPECT_EQ(a.low, again.low);
  EXPECT_LE(a.low, 1.3);
  EXPECT_GE(a.high, 1.3);
  EXPECT_GT(a.low, 1.2);
}

}  // namespace
}  // namespace loadcell
