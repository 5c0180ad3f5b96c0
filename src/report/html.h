// The data behind the HTML report and the live dashboard: one JSON object the page's
// report.js renders (totals, thresholds, checks, per-second series in columns, the HDR
// percentile spectrum, the per-request table, metadata).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "results/run_results.h"

namespace loadcell {

nlohmann::json ReportData(const RunResults& r);
// A complete HTML page around `data` with the embedded scripts; `extra_script` runs after
// the page rendered (the dashboard's live updates).
std::string HtmlPage(const std::string& title, const nlohmann::json& data, const std::string& extra_script = "");

}  // namespace loadcell
