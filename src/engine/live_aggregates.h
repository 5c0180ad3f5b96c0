// Per-second aggregates of the sub-metrics that `abort_on_fail` thresholds watch. Each
// worker publishes its cumulative aggregates once per second (one lock per worker per
// second); the coordinator merges them and evaluates the thresholds while the test runs.
#pragma once

#include <mutex>
#include <vector>

#include "metrics/metric_store.h"

namespace loadcell {

class LiveAggregates {
 public:
  LiveAggregates(int workers, size_t selectors) : latest_(static_cast<size_t>(workers)), selectors_(selectors) {}

  void Publish(int worker, std::vector<SeriesAggregate> aggregates) {
    std::lock_guard<std::mutex> lock(mu_);
    latest_[static_cast<size_t>(worker)] = std::move(aggregates);
  }

  std::vector<SeriesAggregate> Merged() {
    std::vector<SeriesAggregate> out(selectors_);
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& worker : latest_) {
      for (size_t i = 0; i < worker.size() && i < out.size(); ++i) {
        if (worker[i].count > 0) out[i].kind = worker[i].kind;
        out[i].Add(worker[i]);
      }
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<std::vector<SeriesAggregate>> latest_;
  size_t selectors_;
};

}  // namespace loadcell
