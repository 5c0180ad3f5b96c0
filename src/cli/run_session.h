// What `run` and `quick` share once their test is prepared: the outputs that watch the run
// (NDJSON streams, the HDR interval log, /metrics and the dashboard, the progress display),
// the run itself, Analyze(), the console summary, the files written at the end, the
// history, and the exit code. The commands differ only in how they make the test and in
// their console summary.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/clock.h"
#include "engine/run_plan.h"
#include "results/run_results.h"
#include "scenario/definition.h"

namespace loadcell {

// The output flags of `run` and `quick`.
struct OutputArgs {
  std::vector<std::string> out;                            // results files: .json or .ndjson
  std::string report;                                      // HTML report
  std::string summary_export;                              // k6's summary layout
  std::string hlog;                                        // HdrHistogram interval log of http_req_duration
  std::string history;                                     // SQLite file to record the run in
  std::string prometheus;                                  // host:port for /metrics
  std::string dashboard;                                   // host:port for the live dashboard
  std::string generator;                                   // a `generator` label on /metrics
  std::vector<std::string> alertmanagers, alert_webhooks;  // live alerts, beside the test's `alerting`
  std::string linger = "0";                                // keep the endpoints up this long after the run
  bool quiet = false;
};
void AddOutputOptions(CLI::App& cmd, OutputArgs& a);
// Checks the flags (file suffixes, --linger); false after printing what is wrong.
bool CheckOutputArgs(const OutputArgs& a, Nanos* linger);

struct RunSession {
  const TestDefinition* def = nullptr;  // as it runs (the plan's own copy, or the capacity search's)
  const TestPlan* plan = nullptr;       // null: a capacity search
  RunOverrides overrides;
  int threads = 1;
  uint64_t seed = 0;
  bool insecure = false;
  RunMeta meta;
  Nanos apdex_t = 500 * kMilli;
  bool usl = false;
  std::vector<long long> monitor_pids;
  std::vector<std::string> monitor_scrapes;   // --monitor-scrape URL
  std::vector<std::string> monitor_postgres;  // --monitor-postgres URL
  Nanos linger = 0;
  std::function<std::string(const RunResults&)> summary;  // the console summary
};

int RunAndReport(const RunSession& s, const OutputArgs& o);

}  // namespace loadcell
