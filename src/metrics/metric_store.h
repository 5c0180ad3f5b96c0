// Tagged samples of a test run (k6's model): every sample belongs to a metric and a tag
// set (scenario, name, method, status, group, user tags). A store keeps one aggregate per
// (metric, tag set): counts for counters, passes/total for rates, an HDR histogram for
// trends. Stores merge exactly, so each worker fills its own and the collector adds them.
// Sub-metrics ("http_req_duration{name:login}") are merges of the matching series.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "metrics/hdr_histogram.h"

namespace loadcell {

using Tags = std::map<std::string, std::string>;

enum class MetricKind { kCounter, kRate, kTrend, kGauge };

// True when `tags` has every key of `filter` with its value.
inline bool TagsInclude(const Tags& tags, const Tags& filter) {
  for (const auto& [k, v] : filter) {
    auto it = tags.find(k);
    if (it == tags.end() || it->second != v) return false;
  }
  return true;
}

struct SeriesAggregate {
  MetricKind kind = MetricKind::kCounter;
  Tags tags;
  int64_t count = 0;                    // counter: sum; rate: samples; trend: samples
  int64_t passes = 0;                   // rate: true samples
  double value = 0, min = 0, max = 0;   // gauge
  std::unique_ptr<HdrHistogram> trend;  // trend: microseconds

  void Add(const SeriesAggregate& o);
  // One sample, as MetricStore's Count/Rate/Trend record it: for callers that resolved the
  // series once (MetricStore::Series) and record into it many times.
  void AddCount(int64_t n) { count += n; }
  void AddRate(bool pass) {
    ++count;
    passes += pass ? 1 : 0;
  }
  void AddTrend(Nanos value) {
    ++count;
    trend->Record(value / kMicro);
  }
};

// A tag set with its canonical key computed once, for recording several metrics with the
// same tags (a request records up to nine).
struct TagKey {
  explicit TagKey(const Tags& t);
  const Tags& tags;
  std::string key;
};

class MetricStore {
 public:
  void Count(const std::string& metric, const TagKey& tags, int64_t n = 1);
  void Rate(const std::string& metric, const TagKey& tags, bool pass);
  void Trend(const std::string& metric, const TagKey& tags, Nanos value);
  void Count(const std::string& metric, const Tags& tags, int64_t n = 1);
  void Rate(const std::string& metric, const Tags& tags, bool pass);
  void Trend(const std::string& metric, const Tags& tags, Nanos value);
  void Gauge(const std::string& metric, const Tags& tags, double value);
  // The series of (metric, tags), made empty if new. The reference stays valid for the
  // store's life (merges and inserts add series, they never move one); Erase ends it.
  SeriesAggregate& Series(const std::string& metric, const TagKey& tags, MetricKind kind) {
    return At(metric, tags, kind);
  }
  void Merge(const MetricStore& other);

  // Everything of `metric` whose tags include all of `filter`, merged.
  SeriesAggregate Select(const std::string& metric, const Tags& filter) const;
  std::vector<std::string> Metrics() const;
  // Distinct values of one tag among the series of a metric.
  std::vector<std::string> TagValues(const std::string& metric, const std::string& tag) const;
  bool Has(const std::string& metric) const;
  bool empty() const { return series_.empty(); }

  // Every series, in metric then canonical-tag order: f(metric, aggregate).
  template <typename F>
  void ForEach(F&& f) const {
    for (const auto& [metric, by_tags] : series_) {
      for (const auto& [_, agg] : by_tags) f(metric, agg);
    }
  }
  // Adds one aggregate (as read back from a results file) to the series of its tags.
  void Insert(const std::string& metric, SeriesAggregate aggregate);
  // Drops every series of `metric` (merging generators rebuilds the `vus` gauge).
  void Erase(const std::string& metric) { series_.erase(metric); }

 private:
  SeriesAggregate& At(const std::string& metric, const TagKey& tags, MetricKind kind);
  // metric -> canonical tag string -> aggregate
  std::map<std::string, std::map<std::string, SeriesAggregate>> series_;
};

}  // namespace loadcell
