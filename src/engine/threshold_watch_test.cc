#include "engine/threshold_watch.h"

#include <gtest/gtest.h>

#include "metrics/gauge_key.h"

namespace loadcell {
namespace {

ThresholdDef Def(const std::string& key, std::vector<std::string> exprs, Nanos from = 0, Nanos to = kOpenEnd) {
  ThresholdDef t;
  t.key = key;
  t.selector = ParseMetricSelector(key).value();
  t.counter = t.selector.metric == "http_reqs";
  for (const std::string& text : exprs) {
    ThresholdExpr e = ParseThresholdExpr(text).value();
    e.during_from = from;
    e.during_to = to;
    t.exprs.push_back(e);
  }
  return t;
}

// Second t (1-based) of a run whose requests take `ms` each, `n` of them.
void Second(ThresholdWatch& w, int64_t t, Nanos ms, int n, std::map<std::string, double> resources = {}) {
  MetricStore interval;
  for (int i = 0; i < n; ++i) {
    interval.Trend("http_req_duration", {}, ms * kMilli);
    interval.Count("http_reqs", {}, 1);
  }
  SeriesPoint p;
  p.t = t;
  p.resources = std::move(resources);
  w.OnSecond(p, interval);
}

TEST(ThresholdWatch, AWindowSeesOnlyItsSeconds) {
  TestDefinition def;
  // A spike from second 10 to 20: 500 ms; 10 ms before and after.
  def.thresholds.push_back(Def("http_req_duration", {"p(95)<100"}, 10 * kSecond, 20 * kSecond));
  def.thresholds.push_back(Def("http_req_duration", {"p(95)<100"}, 20 * kSecond));
  def.thresholds.push_back(Def("http_reqs", {"rate>=50", "count==1000"}, 10 * kSecond, 20 * kSecond));
  ThresholdWatch w(def, false);
  for (int64_t t = 1; t <= 30; ++t) Second(w, t, t > 10 && t <= 20 ? 500 : 10, 100);
  double v = 0;
  ASSERT_TRUE(w.Observed(0, 0, &v));
  EXPECT_NEAR(v, 500, 5);  // seconds 11..20 cover [10 s, 20 s)
  ASSERT_TRUE(w.Observed(1, 0, &v));
  EXPECT_NEAR(v, 10, 0.1);  // from 20 s to the end: after the spike
  ASSERT_TRUE(w.Observed(2, 0, &v));
  EXPECT_DOUBLE_EQ(v, 100);  // per second of the window
  ASSERT_TRUE(w.Observed(2, 1, &v));
  EXPECT_DOUBLE_EQ(v, 1000);
  auto now = w.Current();
  ASSERT_EQ(now.size(), 4u);
  EXPECT_FALSE(now[0].ok);
  EXPECT_TRUE(now[1].ok);
  EXPECT_EQ(now[0].during_from, 10 * kSecond);
}

TEST(ThresholdWatch, AWindowNotReachedHasNoData) {
  TestDefinition def;
  def.thresholds.push_back(Def("http_req_duration", {"p(95)<100"}, 60 * kSecond, 120 * kSecond));
  ThresholdWatch w(def, false);
  for (int64_t t = 1; t <= 30; ++t) Second(w, t, 10, 10);
  double v = 0;
  EXPECT_FALSE(w.Observed(0, 0, &v));
  auto outcomes = EvaluateThresholds(def, MetricStore(), 30, w.Judge());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].no_data);
}

TEST(ThresholdWatch, GrowthOfAGaugeInEachUnit) {
  TestDefinition def;
  // 100 MiB growing 1 MiB a minute: 60 MiB/h, 60%/h of the starting level, 1440%/day.
  def.thresholds.push_back(
      Def("target_rss", {"growth<50MB/h", "growth<61%/h", "growth<1400%/day", "growth>62914559/h"}));
  ThresholdWatch w(def, false);
  const double mib = 1024.0 * 1024.0;
  for (int64_t t = 1; t <= 600; ++t) {
    const double mid = static_cast<double>(t) - 0.5;
    Second(w, t, 1, 0, {{"target_rss", 100 * mib + mid / 60.0 * mib}});
  }
  double v = 0;
  ASSERT_TRUE(w.Observed(0, 0, &v));
  EXPECT_NEAR(v, 60, 1e-6);
  // % of the level fitted at the first second's middle (100 MiB + 0.5 s of growth).
  const double start = 100 + 0.5 / 60;
  ASSERT_TRUE(w.Observed(0, 1, &v));
  EXPECT_NEAR(v, 100 * 60 / start, 1e-6);
  ASSERT_TRUE(w.Observed(0, 2, &v));
  EXPECT_NEAR(v, 24 * 100 * 60 / start, 1e-4);
  ASSERT_TRUE(w.Observed(0, 3, &v));
  EXPECT_NEAR(v, 60 * mib, 1e-3);
  auto now = w.Current();
  EXPECT_FALSE(now[0].ok);  // 60 MB/h is not < 50
  EXPECT_TRUE(now[1].ok);
  EXPECT_FALSE(now[2].ok);
  EXPECT_TRUE(now[3].ok);
}

TEST(ThresholdWatch, MonitorGaugesByTheirLabels) {
  TestDefinition def;
  def.thresholds.push_back(Def("monitor_pods{phase:Running}", {"min>=3"}, 5 * kSecond));
  ThresholdWatch w(def, false);
  for (int64_t t = 1; t <= 10; ++t) {
    Second(w, t, 1, 0,
           {{GaugeKey("monitor_pods", {{"phase", "Running"}}), t <= 5 ? 1.0 : 3.0},
            {GaugeKey("monitor_pods", {{"phase", "Pending"}}), 0.0}});
  }
  double v = 0;
  ASSERT_TRUE(w.Observed(0, 0, &v));
  EXPECT_EQ(v, 3);  // the first five seconds (1 pod) are before the window
}

TEST(ThresholdWatch, EverythingWatchedForLiveAlerts) {
  TestDefinition def;
  def.thresholds.push_back(Def("http_req_duration", {"p(95)<100"}));
  ThresholdWatch only(def, false), every(def, true);
  Second(only, 1, 500, 10);
  Second(every, 1, 500, 10);
  EXPECT_TRUE(only.Current()[0].no_data);  // not judged per second: the run's totals judge it
  EXPECT_FALSE(every.Current()[0].ok);
}

}  // namespace
}  // namespace loadcell
