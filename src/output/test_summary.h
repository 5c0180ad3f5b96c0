// Views of a `loadcell run` result: the k6-like end-of-test summary (checks, thresholds,
// metrics, a per-request breakdown) and the summary export in the spec's layout.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/threshold_eval.h"
#include "engine/test_run.h"
#include "scenario/definition.h"

namespace loadcell {

std::string FormatTestSummary(const TestDefinition& def, const TestResult& r,
                              const std::vector<ThresholdOutcome>& thresholds);
nlohmann::json TestSummaryExport(const TestDefinition& def, const TestResult& r,
                                 const std::vector<ThresholdOutcome>& thresholds);

}  // namespace loadcell
