// Subcommands. Each takes its parsed options and returns the process exit code
// (documented in docs/cli.md: 0 ok, 1 failure, 104 bad arguments, 105 interrupted).
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/run_session.h"

namespace loadcell {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitThresholds = 99;
constexpr int kExitBadInput = 104;
constexpr int kExitInterrupted = 105;

// Set by SIGINT/SIGTERM.
extern std::atomic<bool> g_interrupted;
extern std::atomic<int> g_signals;  // how many SIGINT/SIGTERM so far

struct QuickArgs {
  std::string url;
  int connections = 10;
  int threads = 0;  // 0: one per core, at most one per connection
  std::string duration = "10s";
  std::string rate;
  std::vector<std::string> headers;
  std::string method = "GET";
  std::string body;
  std::string timeout = "10s";
  std::string warmup = "0";
  std::string grace = "10s";
  bool insecure = false;
  std::string json;  // deprecated: --out F (.json)
  long long seed = -1;
  std::string hdr_max, hdr_digits;  // removed: refused with a message
  bool h2 = false;
  int streams = 1;
  bool no_redact = false;
  std::vector<long long> monitor_pids;
  std::vector<std::string> monitor_scrapes;
  std::vector<std::string> monitor_postgres;
  std::string apdex_t = "500ms";
  OutputArgs outputs;
};
void AddQuickOptions(CLI::App& cmd, QuickArgs& a);
int RunQuick(const QuickArgs& a, const std::string& command_line);

struct TargetArgs {
  std::string listen = "127.0.0.1:8080";
  int threads = 1;
  std::string latency;
  std::string error_rate = "0";
  long long body_size = 13;
  std::string stall;
  double slowdown = 1;
  int workers = 0;
  double leak = 0;      // MiB per minute
  double leak_cap = 0;  // MiB
};
void AddTargetOptions(CLI::App& cmd, TargetArgs& a);
int RunTargetCommand(const TargetArgs& a);

// -e KEY=VALUE arguments into `env`; false (after printing the error) when one is malformed.
bool ParseEnvArgs(const std::vector<std::string>& args, std::map<std::string, std::string>* env);

struct ValidateArgs {
  std::string file;
  std::vector<std::string> env;  // -e KEY=VALUE
  std::string max_value_size = "10MB";
};
// --max-value-size for run and validate: the largest value a test file may expand to.
bool ParseMaxValueSize(const std::string& text, uint64_t* out);
void AddValidateOptions(CLI::App& cmd, ValidateArgs& a);
int RunValidate(const ValidateArgs& a);

struct RunArgs {
  std::string file;
  std::vector<std::string> env;
  long long vus = 0;
  std::string duration;
  int threads = 0;
  long long seed = -1;
  bool insecure = false;
  bool no_redact = false;
  bool strict_thresholds = false;  // a threshold with no data fails
  std::string max_value_size = "10MB";
  bool confine_files = false;                 // data files: relative paths without `..` only (what serve runs)
  std::vector<long long> monitor_pids;        // --monitor-pid
  std::vector<std::string> monitor_scrapes;   // --monitor-scrape
  std::vector<std::string> monitor_postgres;  // --monitor-postgres
  std::string apdex_t = "500ms";
  bool usl = false;               // read a stepped ramping-vus run as a concurrency sweep
  std::string segment, segments;  // --segment K/N | FROM:TO, --segments SEQ
  int segment_index = 0;          // --segment-index I (1-based)
  std::string setup_data;         // --setup-data FILE: setup's variables, instead of running setup
  OutputArgs outputs;
};
void AddRunOptions(CLI::App& cmd, RunArgs& a);

// `loadcell setup TEST -o FILE`: runs the test's setup once and writes what it left, for
// the generators of a split run (`run --setup-data FILE`).
struct SetupArgs {
  std::string file, out;
  std::string setup_data;  // teardown: what setup left
  std::vector<std::string> env;
  long long seed = -1;
  bool insecure = false;
};
void AddSetupOptions(CLI::App& cmd, SetupArgs& a);
int RunSetupCommand(const SetupArgs& a);
// `loadcell teardown TEST --setup-data FILE`: the test's teardown, once, after a split run.
void AddTeardownOptions(CLI::App& cmd, SetupArgs& a);
int RunTeardownCommand(const SetupArgs& a);
int RunTestCommand(const RunArgs& a, const std::string& command_line);

struct ProxyArgs {
  std::string listen, upstream, api, duration;
  std::vector<std::string> faults;
};
void AddProxyOptions(CLI::App& cmd, ProxyArgs& a);
int RunProxyCommand(const ProxyArgs& a);

struct MergeArgs {
  std::vector<std::string> parts;
  std::string out, summary_export, report;
  bool quiet = false;
  bool strict_thresholds = false;
  std::string apdex_t;  // empty: the parts' own T
};
void AddMergeOptions(CLI::App& cmd, MergeArgs& a);
int RunMergeCommand(const MergeArgs& a, const std::string& command_line);

struct ReportArgs {
  std::string results;
  std::string html, junit, markdown, csv, json;
};
void AddReportOptions(CLI::App& cmd, ReportArgs& a);
int RunReportCommand(const ReportArgs& a);

struct CompareArgs {
  std::string baseline, current;
  std::string max_regression = "10%";
  std::string markdown, json;
};
void AddCompareOptions(CLI::App& cmd, CompareArgs& a);
int RunCompareCommand(const CompareArgs& a);

struct AnalyzeArgs {
  std::string file;
  std::string json;
  int bootstrap = 1000;
};
void AddAnalyzeOptions(CLI::App& cmd, AnalyzeArgs& a);
int RunAnalyzeCommand(const AnalyzeArgs& a);

struct HistoryArgs {
  std::string db, test, json;
  std::string metric = "p95";
};
void AddHistoryOptions(CLI::App& cmd, HistoryArgs& a);
int RunHistoryCommand(const HistoryArgs& a);

struct ServeArgs {
  std::string listen = "127.0.0.1:8686";
  std::string db = "loadcell.db";
  std::string token_file, data_dir;
  int max_concurrent_runs = 1;
  long long max_body = 1 << 20;
  int max_connections_per_client = 64;
  int request_timeout = 30;
  std::string escalate_after = "0";
};
void AddServeOptions(CLI::App& cmd, ServeArgs& a);
int RunServeCommand(const ServeArgs& a);

}  // namespace loadcell
