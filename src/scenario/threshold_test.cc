#include "scenario/threshold.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

TEST(Threshold, Selectors) {
  auto m = *ParseMetricSelector("http_req_duration{name:login, tenant:t1}");
  EXPECT_EQ(m.metric, "http_req_duration");
  EXPECT_EQ(m.tags.at("name"), "login");
  EXPECT_EQ(m.tags.at("tenant"), "t1");
  EXPECT_EQ(m.ToString(), "http_req_duration{name:login,tenant:t1}");
  EXPECT_EQ(ParseMetricSelector("http_reqs").value().ToString(), "http_reqs");
  EXPECT_FALSE(ParseMetricSelector("bad metric").ok());
  EXPECT_FALSE(ParseMetricSelector("x{name}").ok());
  EXPECT_FALSE(ParseMetricSelector("x{name:a").ok());
}

TEST(Threshold, Expressions) {
  auto p = *ParseThresholdExpr("p(95)<500");
  EXPECT_EQ(p.aggregate, ThresholdExpr::Aggregate::kPercentile);
  EXPECT_DOUBLE_EQ(p.percentile, 95);
  EXPECT_TRUE(p.Holds(499.9));
  EXPECT_FALSE(p.Holds(500));
  auto r = *ParseThresholdExpr(" rate <= 0.01 ");
  EXPECT_EQ(r.aggregate, ThresholdExpr::Aggregate::kRate);
  EXPECT_EQ(r.op, ThresholdExpr::Op::kLe);
  EXPECT_TRUE(r.Holds(0.01));
  auto c = *ParseThresholdExpr("count>=100");
  EXPECT_TRUE(c.Holds(100));
  EXPECT_FALSE(c.Holds(99));
  EXPECT_TRUE(ParseThresholdExpr("p(99.9)>1").value().Holds(2));
  EXPECT_TRUE(ParseThresholdExpr("value==1").value().Holds(1));
  EXPECT_EQ(ParseThresholdExpr("p95<500").error().message,
            "invalid threshold \"p95<500\": unknown aggregation \"p95\" (expected like p(95)<500, avg<200, rate<0.01, "
            "count>10, growth<5%/h)");
  EXPECT_FALSE(ParseThresholdExpr("avg 500").ok());
  EXPECT_FALSE(ParseThresholdExpr("avg<fast").ok());
  EXPECT_FALSE(ParseThresholdExpr("p(101)<5").ok());
}

}  // namespace
}  // namespace loadcell

namespace loadcell {
namespace {

TEST(Threshold, GrowthNeedsAUnit) {
  auto mb = ParseThresholdExpr("growth<50MB/h");
  ASSERT_TRUE(mb.ok());
  EXPECT_EQ(mb->aggregate, ThresholdExpr::Aggregate::kGrowth);
  EXPECT_EQ(mb->growth_unit, ThresholdExpr::GrowthUnit::kMibPerHour);
  EXPECT_EQ(mb->bound, 50);
  EXPECT_EQ(ParseThresholdExpr("growth < 2 %/day")->growth_unit, ThresholdExpr::GrowthUnit::kPercentPerDay);
  EXPECT_EQ(ParseThresholdExpr("growth<=1.5%/h")->growth_unit, ThresholdExpr::GrowthUnit::kPercentPerHour);
  EXPECT_EQ(ParseThresholdExpr("growth<10/h")->growth_unit, ThresholdExpr::GrowthUnit::kPerHour);
  EXPECT_EQ(ParseThresholdExpr("growth<5").error().message,
            "invalid threshold \"growth<5\": growth needs a unit: MB/h, %/h, %/day or /h (expected like p(95)<500, "
            "avg<200, rate<0.01, count>10, growth<5%/h)");
  EXPECT_FALSE(ParseThresholdExpr("growth<5GB/h").ok());
}

TEST(Threshold, SeveritiesByName) {
  Severity s = Severity::kCritical;
  EXPECT_TRUE(ParseSeverity("warning", &s));
  EXPECT_EQ(s, Severity::kWarning);
  EXPECT_TRUE(ParseSeverity("info", &s));
  EXPECT_EQ(SeverityName(s), "info");
  EXPECT_FALSE(ParseSeverity("minor", &s));
}

}  // namespace
}  // namespace loadcell
