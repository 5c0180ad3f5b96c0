#include "monitor/prometheus_source.h"

#include <gtest/gtest.h>

#include <cmath>

namespace loadcell {
namespace {

TEST(PromQuery, VectorSeriesBecomeGaugesWithTheirLabels) {
  // As Prometheus 2.42 answers `up` (the documented shape of /api/v1/query).
  auto g = PromQueryGauges("up", 200, R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"__name__":"up","instance":"127.0.0.1:9100","job":"node"},"value":[1733580000.123,"1"]},
      {"metric":{"__name__":"up","instance":"127.0.0.1:9187","job":"pg"},"value":[1733580000.123,"0"]}]}})");
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->size(), 2u);
  EXPECT_EQ(g->at(R"(monitor_up{instance="127.0.0.1:9100",job="node"})"), 1);
  EXPECT_EQ(g->at(R"(monitor_up{instance="127.0.0.1:9187",job="pg"})"), 0);
}

TEST(PromQuery, ScalarsAndAggregatesHaveNoTags) {
  auto s = PromQueryGauges("pi", 200, R"({"status":"success","data":{"resultType":"scalar","result":[1.5,"3.14"]}})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->at("monitor_pi"), 3.14);
  auto sum = PromQueryGauges(
      "rps", 200, R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"+Inf"]}]}})");
  ASSERT_TRUE(sum.ok());
  EXPECT_TRUE(std::isinf(sum->at("monitor_rps")));
  auto nan = PromQueryGauges(
      "ratio", 200,
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}})");
  ASSERT_TRUE(nan.ok());
  EXPECT_TRUE(nan->empty());  // 0/0 has no value this second
}

TEST(PromQuery, ErrorsCarryPrometheusReason) {
  auto bad = PromQueryGauges(
      "x", 400, R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected <op:*>"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "Prometheus: 1:5: parse error: unexpected <op:*>");
  auto proxy = PromQueryGauges("x", 502, "<html>Bad Gateway</html>");
  ASSERT_FALSE(proxy.ok());
  EXPECT_EQ(proxy.error().message, "HTTP status 502");
  auto matrix = PromQueryGauges("x", 200, R"({"status":"success","data":{"resultType":"matrix","result":[]}})");
  ASSERT_FALSE(matrix.ok());
  EXPECT_EQ(matrix.error().message, "the query returns a matrix, not an instant vector or a scalar");
}

TEST(PromQuery, UrlEncodesTheQueryAndTheInstant) {
  EXPECT_EQ(
      PromQueryUrl("http://prom:9090/", "sum(rate(x{job=\"a b\"}[1m]))", 1733580000.5),
      "http://prom:9090/api/v1/query?query=sum%28rate%28x%7Bjob%3D%22a%20b%22%7D%5B1m%5D%29%29&time=1733580000.500");
  EXPECT_EQ(PromQueryUrl("https://h/prometheus", "up", 1), "https://h/prometheus/api/v1/query?query=up&time=1.000");
}

}  // namespace
}  // namespace loadcell
