// Per-second hand-off from the workers to the coordinator. Each worker records the core
// metrics (requests, failures, latency, iterations, checks, bytes, errors) a second time
// into a small interval store and, at every second boundary of the run's clock, moves it
// here: one lock per worker per second, never on the request path. The coordinator merges
// the workers' pieces of a second once all of them arrived, which gives the per-second
// series, the NDJSON stream and the live endpoints without stopping anyone.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "metrics/metric_store.h"

namespace loadcell {

struct Interval {
  int worker = 0;
  int64_t second = 0;  // 1-based: covers [second-1, second) of the run's clock
  bool last = false;   // the worker's final piece (it finished); may cover a partial second
  MetricStore store;
};

class IntervalSink {
 public:
  void Publish(Interval interval) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(std::move(interval));
  }
  std::vector<Interval> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Interval> out;
    out.swap(pending_);
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<Interval> pending_;
};

}  // namespace loadcell
