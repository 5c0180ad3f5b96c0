#include "target/latency_dist.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

TEST(LatencyDist, ParsesAndSamples) {
  std::mt19937_64 rng(42);
  auto fixed = LatencyDist::Parse("fixed:20ms");
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->Sample(rng), 20 * kMilli);
  auto uni = *LatencyDist::Parse("uniform:5ms..50ms");
  auto norm = *LatencyDist::Parse("normal:20ms,5ms");
  auto logn = *LatencyDist::Parse("lognormal:20ms,0.5");
  auto ex = *LatencyDist::Parse("exp:20ms");
  double su = 0, sn = 0, se = 0;
  std::vector<Nanos> ln;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    Nanos u = uni.Sample(rng);
    ASSERT_GE(u, 5 * kMilli);
    ASSERT_LE(u, 50 * kMilli);
    su += static_cast<double>(u);
    sn += static_cast<double>(norm.Sample(rng));
    se += static_cast<double>(ex.Sample(rng));
    ln.push_back(logn.Sample(rng));
  }
  EXPECT_NEAR(su / n / 1e6, 27.5, 0.2);
  EXPECT_NEAR(sn / n / 1e6, 20.0, 0.1);
  EXPECT_NEAR(se / n / 1e6, 20.0, 0.2);
  std::nth_element(ln.begin(), ln.begin() + n / 2, ln.end());
  EXPECT_NEAR(static_cast<double>(ln[n / 2]) / 1e6, 20.0, 0.3);  // lognormal's median
}

TEST(LatencyDist, Errors) {
  EXPECT_FALSE(LatencyDist::Parse("fixed").ok());
  EXPECT_FALSE(LatencyDist::Parse("uniform:50ms..5ms").ok());
  EXPECT_FALSE(LatencyDist::Parse("gamma:1s").ok());
  EXPECT_FALSE(LatencyDist::Parse("lognormal:20ms,-1").ok());
  EXPECT_NE(LatencyDist::Parse("fixed:20").error().message.find("fixed:20ms, uniform"), std::string::npos);
}

TEST(StallSpec, ReleasesAtTheEndOfTheWindow) {
  auto s = *StallSpec::Parse("1s/10s");
  EXPECT_EQ(s.Release(0), kSecond);
  EXPECT_EQ(s.Release(400 * kMilli), kSecond);
  EXPECT_EQ(s.Release(kSecond), kSecond);
  EXPECT_EQ(s.Release(5 * kSecond), 5 * kSecond);
  EXPECT_EQ(s.Release(10 * kSecond + 1), 11 * kSecond);
  EXPECT_FALSE(StallSpec::Parse("10s/1s").ok());
  EXPECT_FALSE(StallSpec::Parse("1s").ok());
}

}  // namespace
}  // namespace loadcell
