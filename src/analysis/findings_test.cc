#include "analysis/findings.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

TEST(Findings, JainIndex) {
  EXPECT_DOUBLE_EQ(JainIndex({5, 5, 5, 5}), 1);
  EXPECT_DOUBLE_EQ(JainIndex({1, 0, 0, 0}), 0.25);
  EXPECT_NEAR(JainIndex({1, 2, 3}), 36.0 / 42.0, 1e-12);
}

TEST(Findings, ApdexFromHistogramsCountsErrorsAsFrustrated) {
  RunResults r;
  Tags ok{{"name", "a"}, {"status", "200"}};
  Tags bad{{"name", "a"}, {"status", "500"}};
  for (int i = 0; i < 60; ++i) r.store.Trend("http_req_duration", ok, 100 * kMilli);  // satisfied (T = 200 ms)
  for (int i = 0; i < 20; ++i) r.store.Trend("http_req_duration", ok, 500 * kMilli);  // tolerating (<= 800 ms)
  for (int i = 0; i < 10; ++i) r.store.Trend("http_req_duration", ok, 2 * kSecond);   // frustrated
  for (int i = 0; i < 5; ++i) r.store.Trend("http_req_duration", bad, 10 * kMilli);   // fast, but failed
  r.store.Count("http_reqs", ok, 90);
  r.store.Count("http_reqs", bad, 5);
  r.store.Count("http_reqs", Tags{{"name", "a"}, {"status", "0"}}, 5);  // no response at all
  Apdex a = ApdexByName(r, 200).at("a");
  EXPECT_EQ(a.satisfied, 60);
  EXPECT_EQ(a.tolerating, 20);
  EXPECT_EQ(a.frustrated, 20);
  EXPECT_DOUBLE_EQ(a.score, (60 + 10) / 100.0);
}

RunResults Healthy(int seconds) {
  RunResults r;
  r.meta.tag_keys = {"tenant"};
  for (int t = 1; t <= seconds; ++t) {
    SeriesPoint p;
    p.t = t;
    p.all = {1000, 0, 1, 1, 2, 3, 4, 5};
    p.resources = {{"target_cpu", 40}, {"target_rss", 100e6 + (t % 3) * 1e5}, {"target_threads", 2}};
    r.series.push_back(p);
  }
  for (const char* v : {"t0", "t1", "t2"}) {
    for (int i = 0; i < 100; ++i) r.store.Trend("http_req_duration", Tags{{"tenant", v}}, 10 * kMilli);
  }
  return r;
}

TEST(Findings, HealthyRunIsSilent) { EXPECT_TRUE(FindBottlenecks(Healthy(30)).empty()); }

TEST(Findings, CpuBoundTarget) {
  RunResults r = Healthy(30);
  for (size_t i = 0; i < r.series.size(); ++i) {
    r.series[i].all.p95 = 3 + static_cast<double>(i);  // latency climbs, throughput stays
    r.series[i].resources["target_cpu"] = 99;
  }
  auto f = FindBottlenecks(r);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].rule, "cpu_bound");
  EXPECT_NE(f[0].text.find("CPU at 99%"), std::string::npos) << f[0].text;
}

TEST(Findings, ConnectionLimits) {
  RunResults r = Healthy(30);
  for (int i = 0; i < 40; ++i) r.store.Rate("http_req_failed", Tags{{"name", "a"}}, true);
  r.store.Count("http_req_errors", Tags{{"kind", "connect"}}, 25);
  r.store.Count("http_req_errors", Tags{{"kind", "connect_timeout"}}, 10);
  r.store.Count("http_req_errors", Tags{{"kind", "timeout"}}, 5);
  auto f = FindBottlenecks(r);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].rule, "connections");
  EXPECT_NE(f[0].text.find("35 of 40 failed requests could not connect (25 refused"), std::string::npos) << f[0].text;
}

TEST(Findings, PausesAlignedWithRssDrops) {
  RunResults r = Healthy(30);
  for (int t : {10, 20}) {
    r.series[static_cast<size_t>(t)].resources["target_rss"] = 60e6;  // a collection
    r.series[static_cast<size_t>(t)].all.p99 = 200;
  }
  auto f = FindBottlenecks(r);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].rule, "pauses");
}

TEST(Findings, OneTenantFarSlower) {
  RunResults r = Healthy(30);
  for (int i = 0; i < 100; ++i) r.store.Trend("http_req_duration", Tags{{"tenant", "t3"}}, 80 * kMilli);
  auto f = FindBottlenecks(r);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].rule, "isolation");
  EXPECT_NE(f[0].text.find("tenant=t3 has p95 80"), std::string::npos) << f[0].text;
  EXPECT_NE(f[0].text.find("Jain's fairness index"), std::string::npos);
}

TEST(Findings, GeneratorFirst) {
  RunResults r = Healthy(30);
  r.messages.push_back("results may understate latency: loadcell itself used up to 199% CPU");
  auto f = FindBottlenecks(r);
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].rule, "generator");
}

}  // namespace
}  // namespace loadcell

namespace loadcell {
namespace {

TEST(Findings, BreakingPointOfAStressRun) {
  RunResults r = Healthy(20);
  ThresholdOutcome crossed;
  crossed.key = "http_req_duration";
  crossed.expr = "p(95)<500";
  crossed.ok = false;
  crossed.observed = 900;
  r.thresholds.push_back(crossed);
  for (size_t i = 0; i < r.series.size(); ++i) {
    r.series[i].vus = 5.0 * static_cast<double>(1 + i / 4);           // steps of 5 VUs every 4 s
    if (i >= 12) r.series[i].all.p95 = 600 + static_cast<double>(i);  // breaks at 12 s (t = 13)
  }
  r.series[5].all.p95 = 700;  // one bad second alone is not the breaking point
  auto f = FindBottlenecks(r);
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].rule, "breaking_point");
  EXPECT_NE(f[0].text.find("breaking point at 12s: http_req_duration (p(95)<500)"), std::string::npos) << f[0].text;
  EXPECT_NE(f[0].text.find("20 VUs, observed 612"), std::string::npos) << f[0].text;
}

}  // namespace
}  // namespace loadcell
