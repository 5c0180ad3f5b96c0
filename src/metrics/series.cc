#include "metrics/series.h"

#include <algorithm>
#include <cmath>

namespace loadcell {

SeriesStats StatsOf(const HdrHistogram* h, int64_t reqs, int64_t failed) {
  SeriesStats s;
  s.reqs = reqs;
  s.failed = failed;
  if (h == nullptr || h->empty()) return s;
  auto ms = [](double us) { return us / 1000.0; };
  // HdrHistogram reports a percentile as the highest value of its bucket; in a view next
  // to the exact max, a p99 above the max would only confuse, so views clamp it.
  auto at = [h](double p) { return static_cast<double>(std::min(h->ValueAtPercentile(p), h->max())); };
  s.avg = std::round(h->mean()) / 1000.0;
  s.p50 = ms(at(50));
  s.p90 = ms(at(90));
  s.p95 = ms(at(95));
  s.p99 = ms(at(99));
  s.max = ms(static_cast<double>(h->max()));
  return s;
}

SeriesPoint MakePoint(int64_t t, double dur, double vus, const MetricStore& interval) {
  SeriesPoint p;
  p.t = t;
  p.dur = dur;
  p.vus = vus;
  struct Acc {
    int64_t reqs = 0, failed = 0;
    HdrHistogram hist;
  };
  Acc all;
  std::map<std::string, Acc> by_name;
  double iter_sum = 0;  // microseconds
  int64_t iter_n = 0;
  interval.ForEach([&](const std::string& metric, const SeriesAggregate& a) {
    auto tag = [&](const char* k) {
      auto it = a.tags.find(k);
      return it == a.tags.end() ? std::string() : it->second;
    };
    if (metric == "http_reqs") {
      all.reqs += a.count;
      by_name[tag("name")].reqs += a.count;
    } else if (metric == "http_req_failed") {
      all.failed += a.passes;
      by_name[tag("name")].failed += a.passes;
    } else if (metric == "http_req_duration" && a.trend) {
      (void)all.hist.Add(*a.trend);
      (void)by_name[tag("name")].hist.Add(*a.trend);
    } else if (metric == "iteration_duration" && a.trend && !a.trend->empty()) {
      iter_sum += a.trend->mean() * static_cast<double>(a.trend->total_count());
      iter_n += a.trend->total_count();
    } else if (metric == "iterations") {
      p.iterations += a.count;
      p.iterations_by_scenario[tag("scenario")] += a.count;
    } else if (metric == "dropped_iterations") {
      p.dropped += a.count;
    } else if (metric == "checks") {
      p.checks_pass += a.passes;
      p.checks_fail += a.count - a.passes;
    } else if (metric == "data_sent") {
      p.data_sent += a.count;
    } else if (metric == "data_received") {
      p.data_received += a.count;
    } else if (metric == "http_req_errors") {
      p.errors[tag("kind")] += a.count;
    }
  });
  p.all = StatsOf(&all.hist, all.reqs, all.failed);
  p.iteration_avg_ms = iter_n ? std::round(iter_sum / static_cast<double>(iter_n)) / 1000.0 : 0;
  for (const auto& [name, acc] : by_name) p.by_name[name] = StatsOf(&acc.hist, acc.reqs, acc.failed);
  return p;
}

}  // namespace loadcell
