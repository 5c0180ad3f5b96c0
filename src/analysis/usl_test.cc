#include "analysis/usl.h"

#include <cmath>

#include <gtest/gtest.h>

namespace loadcell {
namespace {

// The R usl package's own test (tests/coef.R): a sweep generated with σ = κ = 0.02, γ = 1.
TEST(Usl, ReproducesTheUslPackageCoefficients) {
  std::vector<UslPoint> pts{{1, 1}, {2, 1.8868}, {4, 3.0769}, {6, 3.5294}, {8, 3.5398}, {10, 3.3557}};
  auto f = FitUsl(pts, 200);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_NEAR(f->sigma, 0.02, 0.0005);
  EXPECT_NEAR(f->kappa, 0.02, 0.0005);
  EXPECT_NEAR(f->lambda, 1.0, 0.001);
  EXPECT_NEAR(f->n_star, 7.0, 0.05);  // √(0.98 / 0.02)
  EXPECT_GT(f->r_squared, 0.9999);
  EXPECT_LE(f->sigma_ci.low, f->sigma);
  EXPECT_GE(f->sigma_ci.high, f->sigma);
  EXPECT_NE(f->limit.find("coherency"), std::string::npos);
}

// Gunther's SPEC SDM91 data (Sun SPARCcenter 2000), the usl package's `specsdm91`; its
// tests/peak-scalability.R gives signif(peak.scalability(u), 2) = 97.
TEST(Usl, SpecSdm91PeakMatchesTheReference) {
  std::vector<UslPoint> pts{{1, 64.9},     {18, 995.9},   {36, 1652.4}, {72, 1853.2},
                            {108, 1828.9}, {144, 1775.0}, {216, 1702.2}};
  auto f = FitUsl(pts, 200);
  ASSERT_TRUE(f.ok());
  EXPECT_GE(f->n_star, 96.5);  // two significant digits: [96.5, 97.5)
  EXPECT_LT(f->n_star, 97.5);
}

TEST(Usl, AmdahlOnlyHasNoPeak) {
  std::vector<UslPoint> pts;
  for (double n : {1, 2, 4, 8, 16, 32}) pts.push_back({n, 100 * n / (1 + 0.05 * (n - 1))});
  auto f = FitUsl(pts, 0);
  ASSERT_TRUE(f.ok());
  EXPECT_NEAR(f->sigma, 0.05, 1e-4);
  EXPECT_LT(f->kappa, 1e-7);
  EXPECT_NE(f->limit.find("contention"), std::string::npos);
  // 3x the throughput at N=4 (347.8): 100N / (0.95 + 0.05N) >= 1043.5 from N = 20.7 on.
  EXPECT_EQ(ConcurrencyFor(*f, 3 * pts[2].x), 21);
  // Beyond λ/σ = 2000 it is never reached.
  EXPECT_LT(ConcurrencyFor(*f, 2100), 0);
}

TEST(Usl, BadInput) {
  EXPECT_FALSE(FitUsl({{1, 1}, {2, 2}}).ok());
  EXPECT_FALSE(FitUsl({{1, 1}, {2, -2}, {3, 3}}).ok());
  auto rows = ReadUslCsv("concurrency,throughput\n1,10\n2,19\nx,3\n", "s.csv");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().message, "s.csv:4: expected \"concurrency,throughput\" (two numbers), got \"x,3\"");
  rows = ReadUslCsv("1,10\r\n2,19\n", "s.csv");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 2u);
}

}  // namespace
}  // namespace loadcell
