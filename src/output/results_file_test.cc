#include "output/results_file.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

RunResults Sample() {
  RunResults r;
  r.meta.test = "t";
  r.meta.file = "t.yaml";
  r.meta.start_unix = 1.8e9;
  r.meta.duration_s = 2;
  r.meta.scenarios = {{"s", "constant-vus", 2}};
  Tags tags{{"name", "a"}, {"scenario", "s"}};
  for (int i = 1; i <= 1000; ++i) r.store.Trend("http_req_duration", tags, i * 1234);
  r.store.Count("http_reqs", tags, 1000);
  r.store.Rate("http_req_failed", tags, true);
  r.store.Gauge("vus", {}, 3);
  ThresholdOutcome crossed;
  crossed.key = "http_req_duration";
  crossed.expr = "p(95)<1";
  crossed.ok = false;
  crossed.observed = 1.17;
  r.thresholds.push_back(crossed);
  SeriesPoint p;
  p.t = 1;
  p.all.reqs = 1000;
  p.by_name["a"] = {1000, 1, 0.6, 0.6, 1.1, 1.17, 1.22, 1.234};
  r.series.push_back(p);
  r.messages.push_back("note");
  return r;
}

TEST(ResultsFile, JsonRoundTripIsExact) {
  RunResults r = Sample();
  std::string text = DumpJson(ResultsJson(r));
  auto back = ParseResults(text, "x.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(DumpJson(ResultsJson(*back)), text);
  SeriesAggregate d = back->store.Select("http_req_duration", {});
  EXPECT_EQ(d.trend->max(), 1234);  // exact, not the bucket's
  EXPECT_EQ(d.trend->min(), 1);
  EXPECT_EQ(back->series[0].by_name.at("a").p95, 1.17);
}

TEST(ResultsFile, NdjsonWithoutEndIsRebuiltFromSeconds) {
  std::string text = std::string("{\"type\":\"meta\",\"schema\":\"loadcell.results/v1\",\"meta\":") +
                     DumpJson(MetaJson(Sample().meta)) + "}\n";
  MetricStore second;
  second.Count("http_reqs", Tags{{"name", "a"}}, 5);
  SeriesPoint p;
  p.t = 1;
  p.dur = 1;
  p.all.reqs = 5;
  for (int t = 1; t <= 2; ++t) {
    p.t = t;
    text += DumpJson({{"type", "second"}, {"point", PointJson(p)}, {"store", StoreJson(second)}}) + "\n";
  }
  text += "{\"type\":\"second\",\"po";  // the line being written when the process died
  auto r = ParseResults(text, "k.ndjson");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->meta.complete);
  EXPECT_EQ(r->series.size(), 2u);
  EXPECT_EQ(r->store.Select("http_reqs", {}).count, 10);
  EXPECT_DOUBLE_EQ(r->meta.duration_s, 2);
}

TEST(ResultsFile, ErrorsNameTheFileAndLine) {
  auto r = ParseResults("{\"type\":\"second\"}\n", "a.ndjson");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "a.ndjson:1: the stream must start with a meta record");
  r = ParseResults("{\"schema\":\"other\"}", "b.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("b.json: not a loadcell results document"), std::string::npos);
  r = ParseResults("{\"type\":\"meta\"}\nnot json\n{}\n", "c.ndjson");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("c.ndjson:1: unsupported schema"), std::string::npos);
}

}  // namespace
}  // namespace loadcell
