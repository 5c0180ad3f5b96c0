// Runs `executor: capacity-search`: each step is the scenario as a constant-arrival-rate
// run at the rate the policy (load/capacity_search.h) asks for, measured for
// step_duration after a settle; the thresholds are evaluated on the measured window only.
// The steps' results add up to one TestResult (series continue across steps), so every
// output sees one run.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "common/result.h"
#include "engine/capacity_report.h"
#include "engine/run_coordinator.h"
#include "scenario/definition.h"
#include "scenario/threshold_eval.h"

namespace loadcell {

struct CapacityRun {
  TestResult result;
  CapacityReport capacity;
  std::vector<ThresholdOutcome> outcomes;  // at the highest passing step (or the last one)
};

struct CapacityRunInputs {
  int threads = 1;
  uint64_t seed = 0;
  bool insecure = false;
  RunObserver* observer = nullptr;
  ResourceSampler sampler;
};

Result<CapacityRun> RunCapacitySearch(const TestDefinition& def, const CapacityRunInputs& in,
                                      const std::atomic<bool>& interrupted, const std::atomic<int>* signals);

}  // namespace loadcell
