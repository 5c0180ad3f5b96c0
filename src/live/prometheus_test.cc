#include "live/prometheus.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

TEST(Prometheus, CountersRatesAndGauges) {
  MetricStore s;
  Tags t{{"name", "login"}, {"scenario", "s"}, {"group", ""}};
  s.Count("http_reqs", t, 3);
  s.Rate("http_req_failed", t, true);
  s.Rate("http_req_failed", t, false);
  s.Rate("checks", Tags{{"check", "status is \"200\""}}, true);
  std::string text = PrometheusText(s, {7, 0.25}, {{"generator", "2"}});
  EXPECT_NE(text.find("# TYPE loadcell_http_reqs_total counter\n"
                      "loadcell_http_reqs_total{name=\"login\",scenario=\"s\",generator=\"2\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("loadcell_http_req_failed_total{name=\"login\",scenario=\"s\",generator=\"2\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("loadcell_checks_total{check=\"status is \\\"200\\\"\",generator=\"2\",result=\"pass\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("loadcell_checks_total{check=\"status is \\\"200\\\"\",generator=\"2\",result=\"fail\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("loadcell_vus{generator=\"2\"} 7\n"), std::string::npos);
  EXPECT_NE(text.find("loadcell_generator_cpu_ratio{generator=\"2\"} 0.2500\n"), std::string::npos);
}

TEST(Prometheus, MonitorGaugesKeepTheirLabels) {
  PrometheusGauges g;
  g.resources = {{"target_cpu", 12.5},
                 {R"(monitor_pods{ns="shop",phase="Pending"})", 1},
                 {R"(monitor_pods{ns="shop",phase="Running"})", 3}};
  std::string text = PrometheusText(MetricStore(), g, {{"generator", "1"}});
  EXPECT_NE(text.find("# TYPE loadcell_monitor_pods gauge\n"
                      "loadcell_monitor_pods{ns=\"shop\",phase=\"Pending\",generator=\"1\"} 1\n"
                      "loadcell_monitor_pods{ns=\"shop\",phase=\"Running\",generator=\"1\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("loadcell_target_cpu{generator=\"1\"} 12.5\n"), std::string::npos) << text;
}

TEST(Prometheus, HistogramBucketsAreCumulativeInSeconds) {
  MetricStore s;
  Tags t{{"name", "a"}};
  for (int i = 0; i < 90; ++i) s.Trend("http_req_duration", t, 2 * kMilli);    // le 0.0025
  for (int i = 0; i < 10; ++i) s.Trend("http_req_duration", t, 300 * kMilli);  // le 0.5
  std::string text = PrometheusText(s, {});
  EXPECT_NE(text.find("# TYPE loadcell_http_req_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("loadcell_http_req_duration_seconds_bucket{name=\"a\",le=\"0.001\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("loadcell_http_req_duration_seconds_bucket{name=\"a\",le=\"0.0025\"} 90\n"), std::string::npos);
  EXPECT_NE(text.find("loadcell_http_req_duration_seconds_bucket{name=\"a\",le=\"0.25\"} 90\n"), std::string::npos);
  EXPECT_NE(text.find("loadcell_http_req_duration_seconds_bucket{name=\"a\",le=\"0.5\"} 100\n"), std::string::npos);
  EXPECT_NE(text.find("loadcell_http_req_duration_seconds_bucket{name=\"a\",le=\"+Inf\"} 100\n"), std::string::npos);
  EXPECT_NE(text.find("loadcell_http_req_duration_seconds_count{name=\"a\"} 100\n"), std::string::npos);
  // 90 x 2 ms + 10 x 300 ms = 3.18 s, within HDR's 0.1%.
  const std::string prefix = "loadcell_http_req_duration_seconds_sum{name=\"a\"} ";
  size_t at = text.find(prefix);
  ASSERT_NE(at, std::string::npos);
  double sum = std::stod(text.substr(at + prefix.size()));
  EXPECT_NEAR(sum, 3.18, 0.004);
}

TEST(Prometheus, NamesAndLabelsAreSanitized) {
  EXPECT_EQ(PrometheusName("my-metric.x"), "loadcell_my_metric_x");
  MetricStore s;
  s.Count("iterations", Tags{{"tenant-id", "a\nb\\c"}});
  std::string text = PrometheusText(s, {});
  EXPECT_NE(text.find("loadcell_iterations_total{tenant_id=\"a\\nb\\\\c\"} 1\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace loadcell
