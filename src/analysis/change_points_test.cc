#include "analysis/change_points.h"

#include <random>

#include <gtest/gtest.h>

#include "analysis/stats.h"

namespace loadcell {
namespace {

// Reference values from R: 2 * pt(-2.5, df = 10) = 0.03144, pt(-1, 3) * 2 = 0.3910.
TEST(Stats, IncompleteBetaGivesStudentT) {
  auto two_sided = [](double t, double df) { return IncompleteBeta(df / 2, 0.5, df / (df + t * t)); };
  EXPECT_NEAR(two_sided(2.5, 10), 0.03144, 5e-5);
  EXPECT_NEAR(two_sided(1, 3), 0.3910, 5e-4);
  EXPECT_NEAR(IncompleteBeta(2, 3, 0.4), 0.5248, 5e-4);  // pbeta(0.4, 2, 3)
}

TEST(Stats, WelchTTest) {
  // t = -2.402 with Welch–Satterthwaite df = 8.989; for df = 9 the two-sided 5% and 2%
  // critical values are 2.262 and 2.821, so p lies between them: 0.0398.
  double p = WelchTTestP({1, 2, 3, 4, 5}, {3, 4, 5, 6, 7, 8});
  EXPECT_NEAR(p, 0.0398, 5e-4);
  EXPECT_GT(p, 0.02);
  EXPECT_LT(p, 0.05);
  EXPECT_EQ(WelchTTestP({1}, {2, 3}), 1);
}

TEST(ChangePoints, FindsAStepAndNothingInNoise) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0, 0.5);
  std::vector<double> x;
  for (int i = 0; i < 15; ++i) x.push_back(10 + noise(rng));
  for (int i = 0; i < 15; ++i) x.push_back(13 + noise(rng));
  auto cps = EDivisive(x);
  ASSERT_EQ(cps.size(), 1u);
  EXPECT_EQ(cps[0].index, 15u);
  EXPECT_NEAR(cps[0].before, 10, 0.5);
  EXPECT_NEAR(cps[0].after, 13, 0.5);
  std::vector<double> flat;
  for (int i = 0; i < 30; ++i) flat.push_back(10 + noise(rng));
  EXPECT_TRUE(EDivisive(flat).empty());
}

TEST(ChangePoints, TwoSteps) {
  std::vector<double> x;
  for (int i = 0; i < 8; ++i) x.push_back(10 + (i % 2) * 0.1);
  for (int i = 0; i < 8; ++i) x.push_back(20 + (i % 2) * 0.1);
  for (int i = 0; i < 8; ++i) x.push_back(12 + (i % 2) * 0.1);
  auto cps = EDivisive(x);
  ASSERT_EQ(cps.size(), 2u);
  EXPECT_EQ(cps[0].index, 8u);
  EXPECT_EQ(cps[1].index, 16u);
}

}  // namespace
}  // namespace loadcell
