#include "metrics/series.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "metrics/hdr_codec.h"

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

size_t SeriesCap() {
  static const size_t cap = [] {
    const char* v = std::getenv("LOADCELL_SERIES_CAP");
    long n = v != nullptr ? std::strtol(v, nullptr, 10) : 0;
    return n >= 4 ? static_cast<size_t>(n) : size_t{300};
  }();
  return cap;
}

namespace {

void MergeStats(SeriesStats& a, const SeriesStats& b) {
  int64_t na = a.reqs - a.failed, nb = b.reqs - b.failed;  // responses timed
  if (na + nb > 0)
    a.avg = (a.avg * static_cast<double>(na) + b.avg * static_cast<double>(nb)) / static_cast<double>(na + nb);
  a.p50 = std::max(a.p50, b.p50);
  a.p90 = std::max(a.p90, b.p90);
  a.p95 = std::max(a.p95, b.p95);
  a.p99 = std::max(a.p99, b.p99);
  a.max = std::max(a.max, b.max);
  a.reqs += b.reqs;
  a.failed += b.failed;
}

template <typename K, typename V>
void AddAll(std::map<K, V>& a, const std::map<K, V>& b) {
  for (const auto& [k, v] : b) a[k] += v;
}

// What adds up whether `b` came after `a` or beside it: counts, weighted averages, and the
// percentiles' upper bound.
void AddCounts(SeriesPoint& a, const SeriesPoint& b) {
  int64_t iterations = a.iterations + b.iterations;
  if (iterations > 0) {
    a.iteration_avg_ms = (a.iteration_avg_ms * static_cast<double>(a.iterations) +
                          b.iteration_avg_ms * static_cast<double>(b.iterations)) /
                         static_cast<double>(iterations);
  }
  a.iterations = iterations;
  a.dropped += b.dropped;
  a.checks_pass += b.checks_pass;
  a.checks_fail += b.checks_fail;
  a.data_sent += b.data_sent;
  a.data_received += b.data_received;
  MergeStats(a.all, b.all);
  for (const auto& [name, st] : b.by_name) MergeStats(a.by_name[name], st);
  AddAll(a.iterations_by_scenario, b.iterations_by_scenario);
  AddAll(a.errors, b.errors);
}

}  // namespace

void MergeInto(SeriesPoint& a, const SeriesPoint& b) {
  AddCounts(a, b);
  a.t = b.t;
  a.dur += b.dur;
  a.vus = b.vus;
  a.vus_by_scenario = b.vus_by_scenario;
  a.resources = b.resources;
}

void AddConcurrent(SeriesPoint& a, const SeriesPoint& b) {
  AddCounts(a, b);
  a.dur = std::max(a.dur, b.dur);
  a.vus += b.vus;
  AddAll(a.vus_by_scenario, b.vus_by_scenario);
  // Each generator samples its own host: the busiest one is the one that matters.
  for (const auto& [k, v] : b.resources) a.resources[k] = std::max(a.resources[k], v);
}

namespace {
double LengthOf(const SeriesPoint& p) { return p.dur; }
}  // namespace

template <typename Point>
void AppendBounded(std::vector<Point>* series, Point p, size_t cap) {
  // The first point is never partial (only the last one is): its length is the series'
  // current resolution.
  if (series->size() >= 2 && LengthOf(series->back()) + LengthOf(p) <= LengthOf(series->front()) + 1e-6) {
    MergeInto(series->back(), p);
    return;
  }
  series->push_back(std::move(p));
  if (series->size() <= cap) return;
  size_t out = 0;
  for (size_t i = 0; i < series->size(); i += 2, ++out) {
    Point merged = std::move((*series)[i]);
    if (i + 1 < series->size()) MergeInto(merged, (*series)[i + 1]);
    (*series)[out] = std::move(merged);
  }
  series->resize(out);
}

template void AppendBounded(std::vector<SeriesPoint>*, SeriesPoint, size_t);

}  // namespace loadcell
