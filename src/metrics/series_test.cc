#include "metrics/series.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

TEST(Series, PointSumsTheSecondByName) {
  MetricStore s;
  Tags login{{"name", "login"}, {"status", "200"}, {"scenario", "a"}};
  Tags login500{{"name", "login"}, {"status", "500"}, {"scenario", "a"}};
  Tags items{{"name", "items"}, {"status", "200"}, {"scenario", "b"}};
  for (int i = 1; i <= 100; ++i) {
    s.Count("http_reqs", login);
    s.Rate("http_req_failed", login, false);
    s.Trend("http_req_duration", login, i * kMilli);
  }
  s.Count("http_reqs", login500, 2);
  s.Rate("http_req_failed", login500, true);
  s.Rate("http_req_failed", login500, true);
  s.Count("http_reqs", items);
  s.Rate("http_req_failed", items, false);
  s.Trend("http_req_duration", items, 7 * kMilli);
  s.Count("iterations", Tags{{"scenario", "a"}}, 5);
  s.Count("iterations", Tags{{"scenario", "b"}}, 1);
  s.Rate("checks", Tags{{"check", "ok"}}, true);
  s.Rate("checks", Tags{{"check", "ok"}}, false);
  s.Count("http_req_errors", Tags{{"kind", "timeout"}}, 3);
  SeriesPoint p = MakePoint(4, 0.5, 12, s);
  EXPECT_EQ(p.t, 4);
  EXPECT_EQ(p.dur, 0.5);
  EXPECT_EQ(p.vus, 12);
  EXPECT_EQ(p.all.reqs, 103);
  EXPECT_EQ(p.all.failed, 2);
  EXPECT_EQ(p.by_name["login"].reqs, 102);
  EXPECT_EQ(p.by_name["login"].failed, 2);
  EXPECT_EQ(p.by_name["items"].reqs, 1);
  EXPECT_DOUBLE_EQ(p.by_name["items"].p99, 7.0);
  EXPECT_NEAR(p.by_name["login"].p50, 50.0, 0.05);
  EXPECT_NEAR(p.by_name["login"].p99, 99.0, 0.1);
  EXPECT_DOUBLE_EQ(p.by_name["login"].max, 100.0);
  EXPECT_EQ(p.iterations, 6);
  EXPECT_EQ(p.iterations_by_scenario["a"], 5);
  EXPECT_EQ(p.checks_pass, 1);
  EXPECT_EQ(p.checks_fail, 1);
  EXPECT_EQ(p.errors["timeout"], 3);
}

TEST(Series, EmptySecond) {
  SeriesPoint p = MakePoint(1, 1, 0, MetricStore());
  EXPECT_EQ(p.all.reqs, 0);
  EXPECT_EQ(p.all.p99, 0);
  EXPECT_TRUE(p.by_name.empty());
}

}  // namespace
}  // namespace loadcell
