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
// `faults: [{kind, at, duration, onset_s, worst_p99_ms, worst_error_rate, failed, recovery_s}]`
// (the spec's layout; at and duration in seconds, null where the run never left or never
// regained its pre-fault band) plus scenario and the band.
nlohmann::json FaultsJson(const std::vector<FaultReport>& faults);
std::vector<FaultReport> FaultsFromJson(const nlohmann::json& j);
// `load_changes: [{kind, scenario, at_s, end_s, from, to, onset_s, recovery_s, band_p99_ms,
// worst_p99_ms, reactions: [{gauge, reaction_s, before, after}]}]` (null: never).
nlohmann::json LoadChangesJson(const std::vector<LoadChangeReport>& changes);
std::vector<LoadChangeReport> LoadChangesFromJson(const nlohmann::json& j);
CapacityReport CapacityFromJson(const nlohmann::json& j);

}  // namespace loadcell
