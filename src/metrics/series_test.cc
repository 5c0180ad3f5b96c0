#include "metrics/series.h"

#include <gtest/gtest.h>

#include "metrics/hdr_codec.h"

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

SeriesPoint Second(int64_t t, int64_t reqs, double p99, double vus) {
  SeriesPoint p;
  p.t = t;
  p.vus = vus;
  p.all.reqs = reqs;
  p.all.p99 = p99;
  p.all.avg = 1;
  p.by_name["a"].reqs = reqs;
  p.iterations = 1;
  p.errors["timeout"] = 1;
  return p;
}

TEST(Series, BoundedSeriesDownsamplesAndKeepsEveryCount) {
  std::vector<SeriesPoint> s;
  for (int64_t t = 1; t <= 100; ++t) AppendBounded(&s, Second(t, t, t == 37 ? 500.0 : 1.0, static_cast<double>(t)), 10);
  // 100 seconds in at most 10 points of equal length (16 s: 6 full points and a last one).
  EXPECT_LE(s.size(), 10u);
  EXPECT_EQ(s.front().dur, 16);
  int64_t reqs = 0, timeouts = 0, iterations = 0, named = 0;
  double covered = 0;
  for (const SeriesPoint& p : s) {
    reqs += p.all.reqs;
    named += p.by_name.at("a").reqs;
    timeouts += p.errors.at("timeout");
    iterations += p.iterations;
    covered += p.dur;
  }
  EXPECT_EQ(reqs, 5050);
  EXPECT_EQ(named, 5050);
  EXPECT_EQ(timeouts, 100);
  EXPECT_EQ(iterations, 100);
  EXPECT_EQ(covered, 100);
  EXPECT_EQ(s.back().t, 100);
  EXPECT_EQ(s.back().vus, 100);  // gauges: the latest sample
  // The spike at second 37 survives in the point that covers it (an upper bound).
  const SeriesPoint& spike = s[36 / 16];
  EXPECT_EQ(spike.all.p99, 500.0);
  EXPECT_EQ(s[0].all.p99, 1.0);
  EXPECT_EQ(s[0].all.avg, 1.0);
}

TEST(Series, ShortSeriesAreUntouched) {
  std::vector<SeriesPoint> s;
  for (int64_t t = 1; t <= 10; ++t) AppendBounded(&s, Second(t, 1, 1, 1), 10);
  ASSERT_EQ(s.size(), 10u);
  for (size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s[i].t, static_cast<int64_t>(i) + 1);
}

}  // namespace
}  // namespace loadcell
