// The results file (`--out`), schema `loadcell.results/v1` (docs/results-format.md), and
// its reader (results_encode.cc, results_decode.cc, ndjson_writer.cc). Two encodings of the
// same content:
// - .json: one document, written when the run ends;
// - .ndjson: a `meta` record when the run starts, one `second` record per second while it
//   runs (with that second's histograms), an `end` record when it ends. A run killed at any
//   moment leaves every second it completed, which the reader turns back into results.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "engine/run_coordinator.h"
#include "results/run_results.h"

namespace loadcell {

inline constexpr const char* kResultsSchema = "loadcell.results/v1";

nlohmann::json ResultsJson(const RunResults& r);
// The document without its bulk (series, histograms): meta, thresholds, checks,
// breakdowns, metrics, messages.
nlohmann::json ResultsSummaryJson(const RunResults& r);
nlohmann::json MetaJson(const RunMeta& m);
nlohmann::json PointJson(const SeriesPoint& p);
nlohmann::json StoreJson(const MetricStore& s);
nlohmann::json ThresholdsJson(const std::vector<ThresholdOutcome>& ts);
nlohmann::json FindingsJson(const RunResults& r);
nlohmann::json ApdexJson(const RunResults& r);

// Either encoding; `name` names the source in error messages. `seconds`, when given,
// receives an .ndjson stream's per-second stores of the core metrics by the point's `t`
// (exact per-second histograms; nothing for a .json document).
Result<RunResults> ParseResults(std::string_view text, const std::string& name, SecondStores* seconds = nullptr);
Result<RunResults> ReadResultsFile(const std::string& path, SecondStores* seconds = nullptr);

// Writes the NDJSON stream as the run goes: each record is one write and flushed, so the
// file is valid up to its last complete line whenever the process dies.
class NdjsonWriter : public RunObserver {
 public:
  ~NdjsonWriter() override;
  // Creates the file; the meta record follows when the run starts.
  Status Open(const std::string& path, const RunMeta& meta);
  void OnStart(double start_wall) override;
  void OnSecond(const SeriesPoint& point, const MetricStore& interval) override;
  Status Finish(const RunResults& r);

 private:
  Status WriteLine(const nlohmann::json& j);
  void Report(const Status& s);
  std::string path_;
  RunMeta meta_;
  FILE* f_ = nullptr;
  bool failed_ = false;
  bool failed_reported_ = false;
  std::string error_;  // the first write error, with its reason
  int64_t seconds_written_ = 0;
};

// The JSON dump used by every writer: invalid UTF-8 (from a response body) is replaced.
std::string DumpJson(const nlohmann::json& j, int indent = -1);

}  // namespace loadcell
