// The one immutable result of a `loadcell run`: every output (console summary, summary
// export, results file, HTML/JUnit/Markdown/CSV reports) is a view of a RunResults, and
// `loadcell report` rebuilds the same RunResults from a results file, so a report made
// later reads exactly what the run printed.
#pragma once

#include <cstdint>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/capacity_report.h"
#include "metrics/metric_store.h"
#include "metrics/series.h"
#include "scenario/threshold_eval.h"

namespace loadcell {

struct TestDefinition;
struct TestResult;

struct ScenarioInfo {
  std::string name;
  std::string executor;
  double planned_s = 0;  // start_time + its duration (iteration executors: max_duration)
};

struct RunMeta {
  std::string test;  // the test's name (or its file when unnamed)
  std::string file;
  std::string file_sha256;  // of the test file as run
  std::string version = LOADCELL_VERSION;
  std::string host;
  std::string command_line;
  uint64_t seed = 0;
  double start_unix = 0, end_unix = 0, duration_s = 0;
  bool interrupted = false;
  std::string aborted_by;
  int64_t vus_max = 0;
  int64_t interrupted_iterations = 0;
  std::vector<ScenarioInfo> scenarios;
  std::vector<std::string> tag_keys;       // user tags of the scenarios and tag_from: one breakdown each
  std::vector<std::string> instance_tags;  // the tags tag_from sets (which instance answered)
  // --segment: this run is one generator's share ("1/4:1/2" of the sequence "0,1/4,1/2,1");
  // empty for a whole test. A merged result lists the parts it was made of.
  std::string segment, segments;
  std::vector<std::string> parts;
  // False when read from an NDJSON stream that ends before its final record (a killed
  // run): only the per-second core metrics exist; the thresholds are judged on those.
  bool complete = true;
  // The test's thresholds as declared, written with the stream's first record so that a
  // stream cut short can still be judged; and strict_thresholds.
  std::vector<ThresholdSpec> declared_thresholds;
  bool strict_thresholds = false;
};

// A bottleneck finding (analysis/findings.h): which rule, and what it saw, with numbers.
struct Finding {
  std::string rule;
  std::string text;
};

// An injected fault (`faults:`) and what it did (analysis/fault_report.h). Times in seconds
// from the test's start; `onset_s`/`recovery_s` are absent when the run never left (or
// never came back to) the pre-fault band.
struct FaultReport {
  std::string kind, scenario;
  double at_s = 0, duration_s = 0;
  std::optional<double> onset_s, recovery_s;
  double worst_p99_ms = 0, worst_error_rate = 0;
  int64_t failed = 0;
  double band_p99_ms = 0, band_error_rate = 0;  // the pre-fault band's upper edges (-1: no baseline)
};

// A change of the load a scenario's stages make (analysis/load_changes.h): when, how large,
// what the latency did and when it was back within its pre-change band, and when each
// watched gauge reacted.
struct GaugeReaction {
  std::string gauge;                 // as written in monitor.reactions
  std::optional<double> reaction_s;  // from the change's start; none: it did not react
  double before = 0, after = 0;      // its level before, and the first value that differed
};
struct LoadChangeReport {
  std::string kind;  // "spike", "step up", "step down"
  std::string scenario;
  double at_s = 0, end_s = 0;  // a spike: from its rise to the end of its fall
  double from = 0, to = 0;     // the scenario's level (VUs, or arrivals per time unit) before and at the peak/after
  std::optional<double> onset_s, recovery_s;  // recovery: from end_s until the seconds stay within the band 3 s
  double band_p99_ms = -1, worst_p99_ms = 0;
  std::vector<GaugeReaction> reactions;
};

struct Apdex {
  double score = 0;
  int64_t satisfied = 0, tolerating = 0, frustrated = 0;
};

// Per-second metric stores of an .ndjson stream (second index, store), for exact merges.
using SecondStores = std::vector<std::pair<int64_t, MetricStore>>;

struct RunResults {
  RunMeta meta;
  std::vector<Finding> findings;
  double apdex_t_ms = 0;
  std::map<std::string, Apdex> apdex;  // by request name
  std::optional<CapacityReport> capacity;
  std::vector<FaultReport> faults;
  std::vector<LoadChangeReport> load_changes;
  nlohmann::json usl;  // run --usl: {steps, fit, notes} (analysis/usl_sweep.h), null otherwise
  std::vector<ThresholdOutcome> thresholds;
  MetricStore store;  // every metric x tag set, histograms included
  std::vector<SeriesPoint> series;
  std::vector<std::string> messages;  // notes for the reader (data exhausted, interruptions)
};

// Requests matching `filter` (all of them when empty): counts, rates over the run, latency.
struct RequestTotals {
  int64_t reqs = 0, failed = 0;
  double rate = 0, failed_rate = 0;
  SeriesStats latency;       // http_req_duration, ms
  bool has_latency = false;  // false when every request failed before a response
};
RequestTotals TotalsOf(const RunResults& r, const Tags& filter = {});

// Every threshold held and nothing aborted the run.
bool Passed(const RunResults& r);

// Rows every view shows the same way.
struct BreakdownRow : RequestTotals {
  std::string tag;    // "name", "scenario" or a user tag
  std::string value;  // "login"
};
// Per request name, per scenario (when there are several), then per value of each user tag.
std::vector<BreakdownRow> Breakdowns(const RunResults& r);

struct CheckRow {
  std::string name;
  int64_t passes = 0, fails = 0;
};
std::vector<CheckRow> Checks(const RunResults& r);

// Metadata of a run about to start (everything but its outcome).
RunMeta MakeRunMeta(const TestDefinition& def, uint64_t seed, const std::string& command_line);
// Moves a finished run and its threshold outcomes into the result model.
RunResults MakeRunResults(RunMeta meta, TestResult&& r, std::vector<ThresholdOutcome> thresholds);

// Exit code of a run: 0, 99 (threshold failed or aborted), 105 (interrupted).
int RunExitCode(const RunResults& r);

}  // namespace loadcell
