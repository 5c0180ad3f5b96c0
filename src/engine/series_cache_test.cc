#include "engine/series_cache.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

RequestStep Login() {
  RequestStep r;
  r.name = "login";
  r.method = "POST";
  r.tags = {{"tenant", "acme"}};
  Check c;
  c.label = "status == 200";
  r.checks.push_back(c);
  return r;
}

// Recording through the cache leaves the stores exactly as recording by name and tags does.
TEST(SeriesCache, RecordsWhatTheStoreWouldByTags) {
  MetricStore total, interval, by_name;
  SeriesCache cache(&total, &interval);
  RequestStep login = Login();
  Tags base{{"scenario", "api"}};
  int id = cache.Intern(base);
  for (int i = 1; i <= 10; ++i) {
    const RequestSeries& s = cache.Request(id, login, "::checkout", i % 5 == 0 ? 500 : 200);
    s.reqs.Count(1);
    s.duration.Trend(i * kMilli);
    s.failed.Rate(i % 5 == 0);
    s.checks[0].Rate(i % 5 != 0);
    Tags t = RequestTags(base, login, "::checkout", i % 5 == 0 ? 500 : 200);
    by_name.Count("http_reqs", t);
    by_name.Trend("http_req_duration", t, i * kMilli);
    by_name.Rate("http_req_failed", t, i % 5 == 0);
    by_name.Rate("checks", CheckTags(base, "status == 200", "::checkout", "login"), i % 5 != 0);
  }
  for (const char* metric : {"http_reqs", "http_req_duration", "http_req_failed", "checks"}) {
    for (const Tags& filter : {Tags{}, Tags{{"status", "500"}}, Tags{{"tenant", "acme"}, {"status", "200"}}}) {
      SeriesAggregate want = by_name.Select(metric, filter), got = total.Select(metric, filter);
      EXPECT_EQ(got.count, want.count) << metric;
      EXPECT_EQ(got.passes, want.passes) << metric;
      EXPECT_EQ(interval.Select(metric, filter).count, want.count) << metric;
      if (want.trend) {
        EXPECT_EQ(got.trend->ValueAtPercentile(50), want.trend->ValueAtPercentile(50));
      }
    }
  }
  EXPECT_EQ(total.TagValues("http_reqs", "status"), (std::vector<std::string>{"200", "500"}));
  EXPECT_EQ(total.TagValues("http_reqs", "tenant"), (std::vector<std::string>{"acme"}));
  EXPECT_EQ(total.TagValues("http_reqs", "group"), (std::vector<std::string>{"::checkout"}));
}

// After the second's hand-over the interval series are found again in the new store.
TEST(SeriesCache, FollowsTheIntervalStoreAcrossSeconds) {
  MetricStore total, interval;
  SeriesCache cache(&total, &interval);
  RequestStep login = Login();
  int id = cache.Intern({{"scenario", "api"}});
  cache.Request(id, login, "", 200).reqs.Count(3);
  cache.Vu(id, SeriesCache::VuMetric::kIterations).Count(1);
  MetricStore first = std::move(interval);
  interval = MetricStore();
  cache.NewInterval();
  cache.Request(id, login, "", 200).reqs.Count(2);
  cache.Vu(id, SeriesCache::VuMetric::kIterations).Count(1);
  EXPECT_EQ(first.Select("http_reqs", {}).count, 3);
  EXPECT_EQ(interval.Select("http_reqs", {}).count, 2);
  EXPECT_EQ(total.Select("http_reqs", {}).count, 5);
  EXPECT_EQ(first.Select("iterations", {}).count, 1);
  EXPECT_EQ(interval.Select("iterations", {}).count, 1);
  EXPECT_EQ(total.Select("iterations", {}).count, 2);
}

// A failure before any response touches no latency series, and a metric never recorded
// has no series (it would show as zero in the summary).
TEST(SeriesCache, MakesOnlyTheSeriesItRecords) {
  MetricStore total, interval;
  SeriesCache cache(&total, &interval);
  RequestStep login = Login();
  int id = cache.Intern({{"scenario", "api"}});
  const RequestSeries& failed = cache.Request(id, login, "", 0);
  failed.reqs.Count(1);
  failed.failed.Rate(true);
  EXPECT_EQ(failed.duration.total, nullptr);
  EXPECT_EQ(failed.waiting, nullptr);
  cache.StartLag(id).AddTrend(5 * kMicro);
  EXPECT_EQ(total.Metrics(),
            (std::vector<std::string>{"checks", "http_req_failed", "http_reqs", "iteration_start_lag"}));
  EXPECT_FALSE(interval.Has("iteration_start_lag"));
}

// VUs with equal base tags share one id; different tags get their own.
TEST(SeriesCache, InternsEqualTagsOnce) {
  MetricStore total, interval;
  SeriesCache cache(&total, &interval);
  int a = cache.Intern({{"scenario", "api"}, {"tenant", "a"}});
  int b = cache.Intern({{"scenario", "api"}, {"tenant", "b"}});
  EXPECT_NE(a, b);
  EXPECT_EQ(cache.Intern({{"tenant", "a"}, {"scenario", "api"}}), a);
  cache.Vu(a, SeriesCache::VuMetric::kDataSent).Count(100);
  cache.Vu(b, SeriesCache::VuMetric::kDataSent).Count(7);
  EXPECT_EQ(total.Select("data_sent", {{"tenant", "a"}}).count, 100);
  EXPECT_EQ(total.Select("data_sent", {{"tenant", "b"}}).count, 7);
}

}  // namespace
}  // namespace loadcell
