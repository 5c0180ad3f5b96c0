// Views of a `loadcell run` result: the k6-like end-of-test summary (checks, thresholds,
// metrics, a per-request breakdown) and the summary export in the spec's layout.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/metric_store.h"
#include "results/run_results.h"

namespace loadcell {

std::string FormatTestSummary(const RunResults& r);
nlohmann::json TestSummaryExport(const RunResults& r);
// One aggregate in the summary export's layout (trends in ms; counters with their rate).
nlohmann::json MetricJson(const SeriesAggregate& a, double secs);
// The spec's `capacity: {max_rate, p99_ms, error_rate, steps}` (plus found and why).
nlohmann::json CapacityJson(const CapacityReport& c);
CapacityReport CapacityFromJson(const nlohmann::json& j);

}  // namespace loadcell
