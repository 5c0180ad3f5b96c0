// `run --usl`: a stepped closed-model run (ramping-vus whose stages hold each level) read
// as a concurrency sweep. Each hold step gives (VUs, throughput) after a one-second settle;
// Little's law (N = X·R with X in iterations/s and R the mean iteration time, think time
// included) is checked at every step, and the USL is fitted to the steps.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/usl.h"
#include "results/run_results.h"
#include "scenario/definition.h"

namespace loadcell {

struct UslStep {
  double vus = 0;
  double from_s = 0, to_s = 0;  // measured window, seconds from the run's start
  double throughput = 0;        // requests per second
  double iterations_per_s = 0;
  double iteration_avg_ms = 0;
  double littles_n = 0;    // iterations/s × mean iteration time
  bool littles_ok = true;  // within 10% of vus
};

struct UslSweep {
  std::vector<UslStep> steps;
  std::optional<UslFit> fit;
  std::vector<std::string> notes;
};

// Errors when the test has no ramping-vus scenario with at least one hold stage.
Result<UslSweep> SweepFromRun(const TestDefinition& def, const RunResults& r);
nlohmann::json UslSweepJson(const UslSweep& s);

}  // namespace loadcell
