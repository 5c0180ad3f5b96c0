// Where a worker's samples go: the run's totals and the current second's store (the
// per-second series). Both are the worker's own, so recording takes no lock. Protocol
// code records through this and never sees the stores' life cycle (the interval store is
// handed over and replaced every second behind the same pointer).
#pragma once

#include <string>

#include "metrics/metric_store.h"

namespace loadcell {

class Recorder {
 public:
  Recorder(MetricStore* total, MetricStore* interval) : total_(total), interval_(interval) {}

  void Count(const std::string& metric, const TagKey& tags, int64_t n = 1) {
    total_->Count(metric, tags, n);
    interval_->Count(metric, tags, n);
  }
  void Rate(const std::string& metric, const TagKey& tags, bool pass) {
    total_->Rate(metric, tags, pass);
    interval_->Rate(metric, tags, pass);
  }
  void Trend(const std::string& metric, const TagKey& tags, Nanos value) {
    total_->Trend(metric, tags, value);
    interval_->Trend(metric, tags, value);
  }
  void Count(const std::string& metric, const Tags& tags, int64_t n = 1) { Count(metric, TagKey(tags), n); }
  void Rate(const std::string& metric, const Tags& tags, bool pass) { Rate(metric, TagKey(tags), pass); }
  void Trend(const std::string& metric, const Tags& tags, Nanos value) { Trend(metric, TagKey(tags), value); }

 private:
  MetricStore* total_;
  MetricStore* interval_;
};

}  // namespace loadcell
