// What a capacity search (engine/capacity_run.h) found: its steps and
// the highest rate that passed the thresholds. Plain data, part of RunResults.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace loadcell {

// `executor: capacity-search`: the steps tried and the highest rate that kept every
// threshold passing.
struct CapacityStep {
  double rate = 0;
  bool passed = false;
  bool generator_limited = false;
  double p99_ms = 0, error_rate = 0;
  int64_t reqs = 0;
  std::string failed;  // the thresholds that failed, "metric: expr (observed v)"
};
struct CapacityReport {
  bool found = false;
  double max_rate = 0, p99_ms = 0, error_rate = 0;  // at max_rate's step
  std::vector<CapacityStep> steps;
  std::string why;  // how the search ended
};

}  // namespace loadcell
