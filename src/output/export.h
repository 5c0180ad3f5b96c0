// Machine-readable views of a run:
// - SummaryExport: k6's --summary-export layout ({"metrics": {name: {...}}}, trends in ms).
// - FullJson: the summary plus run metadata, every histogram (HdrHistogram V2 base64), the
//   per-second series and warnings.
// - IntervalLog: HdrHistogram's interval log (v1.3) of http_req_duration, one line per second.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "metrics/run_result.h"

namespace loadcell {

nlohmann::json SummaryExport(const RunResult& r);
nlohmann::json FullJson(const RunResult& r);
std::string IntervalLog(const RunResult& r);

// "2026-11-23T16:09:55.123Z"
std::string Iso8601(double epoch_s);

// Writes atomically (temp file + rename) so a reader never sees half a file.
Status WriteFile(const std::string& path, const std::string& content);

// Before a run: can `path` be created? (its directory exists and is writable). Outputs
// are written at the end; a run of an hour should not learn only then that they are lost.
Status CheckWritable(const std::string& path);

}  // namespace loadcell
