// What a finished run's numbers mean, worked out one way for `run` and `merge` (and so for
// `serve`, whose runs are `run`s): the target's memory growth (soak), the thresholds, the
// generator's self-check, USL, what each injected fault did, bottleneck findings and Apdex
// — in that order: thresholds may name the soak gauges, and findings read the thresholds.
// A run and a merge of that run alone reach the same verdicts (tests/integration/test_results.py).
#pragma once

#include <optional>
#include <vector>

#include "results/run_results.h"
#include "scenario/definition.h"
#include "scenario/threshold.h"

namespace loadcell {

struct AnalysisInputs {
  // Whose thresholds to judge (and strict_thresholds); none: no thresholds.
  const TestDefinition* thresholds = nullptr;
  // Judges the expressions a whole-run total cannot (`during` windows, growth): the run's
  // ThresholdWatch; none: they have no data.
  ThresholdJudge per_second;
  // A capacity search judged its thresholds already, at its highest passing step.
  std::optional<std::vector<ThresholdOutcome>> judged;
  std::vector<FaultDef> faults;
  // The load changes to judge (LoadChangesOf the test, or a merged run's parts'), and the
  // gauges whose reaction to each is timed (monitor.reactions).
  std::vector<LoadChangeReport> load_changes;
  std::vector<std::string> reaction_gauges;
  double apdex_t_ms = 500;
  bool soak = false;  // resources were monitored: estimate the target's memory growth
  // This generator's threads, for the self-check of its own limits; 0: not a generator's
  // own run (merge), no self-check.
  int threads = 0;
  bool overload_expected = false;       // a capacity search drives past the limit on purpose
  const TestDefinition* usl = nullptr;  // run --usl: fit the Universal Scalability Law to the steps
};

void Analyze(RunResults& r, const AnalysisInputs& in);

// The faults a results document reports, as definitions to analyse again (merge): an
// unknown kind is an error naming it, never a blackhole by default.
Result<std::vector<FaultDef>> FaultDefsOf(const std::vector<FaultReport>& reports);

}  // namespace loadcell
