// The per-second series of a test run: one point per second of the run's clock, reduced
// from that second's merged interval store to numbers (the histograms themselves are not
// kept per second). Memory stays bounded however long the run: past SeriesCap() points
// the series is downsampled (AppendBounded), while the totals stay exact (they are the
// run's histograms, not the series) and an .ndjson stream keeps every second on disk.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "metrics/metric_store.h"

namespace loadcell {

struct SeriesStats {
  int64_t reqs = 0, failed = 0;
  // http_req_duration in milliseconds; 0 when the second had no response.
  double avg = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;
};

struct SeriesPoint {
  int64_t t = 0;                // 1-based second: covers [t-1, t) of the run (the last one may be longer or shorter)
  double dur = 1;               // seconds covered, for rates
  double vus = 0;               // VUs in an iteration, sampled at the end of the second
  double iteration_avg_ms = 0;  // mean iteration_duration of the iterations that ended in this second
  int64_t iterations = 0, dropped = 0, checks_pass = 0, checks_fail = 0, data_sent = 0, data_received = 0;
  SeriesStats all;
  std::map<std::string, SeriesStats> by_name;  // by the request's `name` tag
  std::map<std::string, int64_t> iterations_by_scenario;
  std::map<std::string, double> vus_by_scenario;  // VUs in an iteration, per scenario
  std::map<std::string, int64_t> errors;          // transport errors by kind
  std::map<std::string, double> resources;        // monitor gauges sampled in this second
};

SeriesPoint MakePoint(int64_t t, double dur, double vus, const MetricStore& interval);

// Most points a series keeps in memory: 300 (a 5-minute run keeps every second), or
// LOADCELL_SERIES_CAP from the environment (tests use small values).
size_t SeriesCap();

// `b` (the later interval) folded into `a`. Counts add; gauges (VUs, resources) keep the
// later sample; averages are weighted; percentiles are the larger of the two (the
// histograms are gone: an upper bound).
void MergeInto(SeriesPoint& a, const SeriesPoint& b);
// `b` measured at the same time as `a` by another generator (`loadcell merge`): counts and
// VUs add; percentiles are the larger of the two (an upper bound) unless recomputed from
// the seconds' histograms.
void AddConcurrent(SeriesPoint& a, const SeriesPoint& b);

// Appends a point, keeping at most `cap` points of equal length: when the series is full,
// neighbours merge pairwise (each point then covers twice as long), and new seconds merge
// into the last point until it is as long as the others.
template <typename Point>
void AppendBounded(std::vector<Point>* series, Point p, size_t cap);

// Percentile summary (ms) of a histogram of microseconds.
SeriesStats StatsOf(const HdrHistogram* h, int64_t reqs, int64_t failed);

}  // namespace loadcell
