#include "monitor/scrape_source.h"

#include <gtest/gtest.h>

#include <cmath>

namespace loadcell {
namespace {

PromExposition Parse(const std::string& text) {
  auto e = ParsePromText(text);
  EXPECT_TRUE(e.ok()) << e.error().message;
  return e.ok() ? std::move(e).value() : PromExposition{};
}

TEST(HistogramQuantile, MatchesPrometheus) {
  // histogram_quantile's own rules: linear within the bucket; past the last finite bound,
  // that bound; no observations, NaN.
  std::vector<std::pair<double, double>> b = {{0.1, 50}, {0.2, 90}, {0.4, 100}, {HUGE_VAL, 100}};
  EXPECT_DOUBLE_EQ(HistogramQuantile(0.5, b), 0.1);
  EXPECT_DOUBLE_EQ(HistogramQuantile(0.25, b), 0.05);
  EXPECT_DOUBLE_EQ(HistogramQuantile(0.7, b), 0.15);
  EXPECT_DOUBLE_EQ(HistogramQuantile(0.95, b), 0.3);
  std::vector<std::pair<double, double>> tail = {{1, 10}, {HUGE_VAL, 20}};
  EXPECT_DOUBLE_EQ(HistogramQuantile(0.99, tail), 1);
  EXPECT_TRUE(std::isnan(HistogramQuantile(0.5, {{1, 0}, {HUGE_VAL, 0}})));
}

TEST(ScrapeConverter, GaugesAsReadCountersAsRates) {
  ScrapeConverter c({});
  auto first = c.Convert(Parse("# TYPE up gauge\nup 1\n# TYPE reqs_total counter\nreqs_total{code=\"200\"} 100\n"), 10);
  EXPECT_EQ(first.at("monitor_up"), 1);
  EXPECT_EQ(first.count("monitor_reqs_total{code=\"200\"}"), 0u);  // a rate needs two reads
  auto second =
      c.Convert(Parse("# TYPE up gauge\nup 0\n# TYPE reqs_total counter\nreqs_total{code=\"200\"} 350\n"), 12);
  EXPECT_EQ(second.at("monitor_up"), 0);
  EXPECT_DOUBLE_EQ(second.at("monitor_reqs_total{code=\"200\"}"), 125);  // 250 in 2 s
  // A restarted service's counter starts again: the increase is its new value.
  auto reset = c.Convert(Parse("# TYPE reqs_total counter\nreqs_total{code=\"200\"} 30\n"), 13);
  EXPECT_DOUBLE_EQ(reset.at("monitor_reqs_total{code=\"200\"}"), 30);
}

TEST(ScrapeConverter, HistogramsGiveTheQuantilesOfTheInterval) {
  ScrapeConverter c({});
  const char* kType = "# TYPE lat histogram\n";
  c.Convert(
      Parse(std::string(kType) +
            "lat_bucket{le=\"0.1\"} 1000\nlat_bucket{le=\"0.2\"} 1000\nlat_bucket{le=\"+Inf\"} 1000\nlat_count 1000\n"),
      1);
  // In the next second: 100 observations, 50 under 0.1 s and 40 more under 0.2 s.
  auto g = c.Convert(Parse(std::string(kType) +
                           "lat_bucket{le=\"0.1\"} 1050\nlat_bucket{le=\"0.2\"} 1090\nlat_bucket{le=\"+Inf\"} 1100\n"
                           "lat_count 1100\n"),
                     2);
  EXPECT_DOUBLE_EQ(g.at("monitor_lat_p50"), 0.1);
  EXPECT_DOUBLE_EQ(g.at("monitor_lat_p90"), 0.2);
  EXPECT_DOUBLE_EQ(g.at("monitor_lat_p99"), 0.2);  // past the last finite bound
  EXPECT_DOUBLE_EQ(g.at("monitor_lat_count"), 100);
  EXPECT_EQ(g.count("monitor_lat_bucket{le=\"0.1\"}"), 0u);
}

TEST(ScrapeConverter, KeepsOnlyTheFamiliesAsked) {
  ScrapeConverter c({std::regex("process_.*"), std::regex("up")});
  auto g = c.Convert(Parse("up 1\nupper 2\nprocess_open_fds 9\ngo_goroutines 30\n"), 1);
  EXPECT_EQ(g.size(), 2u);
  EXPECT_EQ(g.at("monitor_up"), 1);
  EXPECT_EQ(g.at("monitor_process_open_fds"), 9);
}

TEST(ScrapeConverter, SummariesPassTheirQuantiles) {
  ScrapeConverter c({});
  auto g =
      c.Convert(Parse("# TYPE rpc summary\nrpc{quantile=\"0.5\"} 0.01\nrpc{quantile=\"0.99\"} 0.2\nrpc_count 5\n"), 1);
  EXPECT_EQ(g.at("monitor_rpc{quantile=\"0.5\"}"), 0.01);
  EXPECT_EQ(g.at("monitor_rpc{quantile=\"0.99\"}"), 0.2);
}

}  // namespace
}  // namespace loadcell
