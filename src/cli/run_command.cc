#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "analysis/pipeline.h"
#include "cli/arguments.h"
#include "cli/commands.h"

#include "common/redact.h"
#include "common/units.h"
#include "engine/capacity_run.h"
#include "engine/generator_fit.h"
#include "engine/run_coordinator.h"
#include "engine/run_plan.h"
#include "history/history_db.h"
#include "live/live_server.h"
#include "monitor/proc_monitor.h"
#include "output/export.h"
#include "output/progress.h"
#include "output/results_file.h"
#include "output/run_summary.h"
#include "report/report.h"
#include "results/run_results.h"
#include "scenario/loader.h"

namespace loadcell {

void AddRunOptions(CLI::App& cmd, RunArgs& a) {
  cmd.add_option("file", a.file, "Test definition (YAML)")->required();
  cmd.add_option("-e,--env", a.env, "KEY=VALUE visible as env.KEY and ${KEY} (repeatable)");
  cmd.add_option("-u,--vus", a.vus, "Run the (single) scenario as constant-vus with this many VUs")
      ->check(CLI::Range(1, 1000000));
  cmd.add_option("-d,--duration", a.duration, "... for this long");
  cmd.add_option("-t,--threads", a.threads, "Worker threads (default: one per core)")->check(CLI::Range(1, 1024));
  cmd.add_option("--summary-export", a.summary_export, "Write the summary (k6 layout) here");
  cmd.add_option("--seed", a.seed, "Seed for the VUs' random generators")->check(CLI::NonNegativeNumber);
  cmd.add_flag("--insecure", a.insecure, "Skip TLS certificate verification");
  cmd.add_flag("--no-redact", a.no_redact,
               "Record credentials (Authorization, Cookie headers, secret vars, -e secrets) as given");
  cmd.add_option("--out", a.out,
                 "Write the results here: .json (at the end) or .ndjson (second by second); repeatable");
  cmd.add_option("--report", a.report, "Write the HTML report here");
  cmd.add_flag("-q,--quiet", a.quiet, "No progress line, only the summary");
  cmd.add_flag("--confine-files", a.confine_files,
               "Data files only by relative paths without `..` (inside the test's directory): how `serve` runs tests");
  cmd.add_option("--max-value-size", a.max_value_size,
                 "The largest value the test file may expand to (YAML aliases), e.g. 10MB");
  cmd.add_flag("--strict-thresholds", a.strict_thresholds,
               "A threshold that no sample matched fails (else it shows as '? no data' and does not fail)");
  cmd.add_flag("--usl", a.usl, "Read the stepped ramping-vus run as a sweep: USL fit and Little's law per step");
  cmd.add_option("--history", a.history, "Record this run in a SQLite history (see loadcell history)");
  cmd.add_option("--apdex-t", a.apdex_t, "Apdex threshold T per request name (satisfied <= T, tolerating <= 4T)");
  cmd.add_option("--monitor-pid", a.monitor_pids,
                 "Sample this process (and its children) from /proc every second; repeatable")
      ->check(CLI::Range(1LL, 1LL << 22));
  cmd.add_option("--prometheus", a.prometheus, "Serve /metrics in Prometheus format at HOST:PORT during the run");
  cmd.add_option("--dashboard", a.dashboard, "Serve the live dashboard at HOST:PORT during the run");
  cmd.add_option("--segment", a.segment,
                 "Run this generator's share of the test: K/N (the K-th of N generators) or FROM:TO (k6's form)");
  cmd.add_option("--segments", a.segments,
                 "The sequence the test is split by, e.g. 0,1/4,1/2,1 (with --segment-index)");
  cmd.add_option("--segment-index", a.segment_index, "Which segment of --segments this generator runs (1 = the first)")
      ->check(CLI::Range(1, 1000000));
  cmd.add_option("--generator", a.generator, "This generator's name: a `generator` label on every /metrics series");
  cmd.add_option(
      "--linger", a.linger,
      "Keep /metrics and the dashboard up this long after the run, for a last scrape and the report (Ctrl-C ends it)");
}

namespace {

// Several observers on the one run.
class Observers : public RunObserver {
 public:
  void Add(RunObserver* o) { list_.push_back(o); }
  void OnStart(double start_wall) override {
    for (RunObserver* o : list_) o->OnStart(start_wall);
  }
  void OnSecond(const SeriesPoint& p, const MetricStore& interval) override {
    for (RunObserver* o : list_) o->OnSecond(p, interval);
  }

 private:
  std::vector<RunObserver*> list_;
};

bool IsNdjson(const std::string& path) { return path.ends_with(".ndjson"); }

}  // namespace

int RunTestCommand(const RunArgs& a, const std::string& command_line) {
  LoadOptions options;
  if (!ParseEnvArgs(a.env, &options.env)) return kExitBadInput;
  if (!ParseMaxValueSize(a.max_value_size, &options.max_value_size)) return kExitBadInput;
  options.confine_files = a.confine_files;
  RunOverrides overrides;
  overrides.vus = a.vus;
  if (!a.duration.empty()) {
    Nanos d = 0;
    if (!ParsePositiveDuration("--duration", a.duration, &d)) return kExitBadInput;
    overrides.duration = d;
  }
  for (const std::string& o : a.out) {
    if (!o.ends_with(".json") && !IsNdjson(o)) {
      std::fprintf(stderr, "loadcell: --out %s: the file name must end in .json or .ndjson\n", o.c_str());
      return kExitBadInput;
    }
  }
  {
    auto segment = ExecutionSegment::FromArgs(a.segment, a.segments, a.segment_index);
    if (!segment.ok()) {
      std::fprintf(stderr, "loadcell: %s\n", segment.error().message.c_str());
      return kExitBadInput;
    }
    overrides.segment = *segment;
  }
  Nanos apdex_t = 0;
  if (!ParsePositiveDuration("--apdex-t", a.apdex_t, &apdex_t)) return kExitBadInput;
  Nanos linger = 0;
  {
    auto d = ParseDuration(a.linger);
    if (!d.ok() || *d < 0) {
      std::fprintf(stderr, "loadcell: --linger: %s\n", d.ok() ? "must not be negative" : d.error().message.c_str());
      return kExitBadInput;
    }
    linger = *d;
  }
  if (auto bad = CheckTestFileArgument(a.file)) {
    std::fprintf(stderr, "loadcell: %s\n", bad->c_str());
    return kExitBadInput;
  }
  auto def = LoadTestFile(a.file, options);
  if (!def.ok()) {
    std::fprintf(stderr, "%s\n", def.error().message.c_str());
    return kExitBadInput;
  }
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  int threads = a.threads > 0 ? a.threads : static_cast<int>(cores);
  uint64_t seed = a.seed >= 0 ? static_cast<uint64_t>(a.seed) : std::random_device{}();
  TestDefinition loaded = std::move(def).value();
  if (a.strict_thresholds) loaded.strict_thresholds = true;
  // capacity-search runs a sequence of steps (engine/capacity_run.h); everything else one plan.
  const bool capacity = std::any_of(loaded.scenarios.begin(), loaded.scenarios.end(),
                                    [](const ScenarioDef& s) { return s.executor == ExecutorKind::kCapacitySearch; });
  std::unique_ptr<TestPlan> plan;
  if (capacity) {
    if (overrides.vus > 0 || overrides.duration > 0) {
      std::fprintf(stderr, "loadcell: --vus/--duration do not apply to executor capacity-search\n");
      return kExitBadInput;
    }
    if (!overrides.segment.whole()) {
      // Each step's verdict needs the whole test's thresholds, which no one generator sees.
      std::fprintf(stderr, "loadcell: --segment: executor capacity-search cannot be split across generators\n");
      return kExitBadInput;
    }
  } else {
    auto prepared = PrepareTest(std::move(loaded), overrides, threads, seed, a.insecure);
    if (!prepared.ok()) {
      std::fprintf(stderr, "loadcell: %s\n", prepared.error().message.c_str());
      return prepared.error().kind == ErrorKind::kInvalidArgument ? kExitBadInput : kExitFailure;
    }
    plan = std::move(prepared).value();
  }
  const TestDefinition& tdef = capacity ? loaded : plan->def;
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  // This generator's share must fit its file limit and memory: refused now, with how many
  // VUs fit, rather than ended mid-run by the kernel or the allocator.
  if (auto why = VusDoNotFit(PeakVus(tdef, overrides.segment), FileLimit(false), AvailableMemory())) {
    std::fprintf(stderr, "loadcell: %s: %s\n", a.file.c_str(), why->c_str());
    return kExitBadInput;
  }
  std::fprintf(stderr, "loadcell: running %s: %zu scenario(s), %d threads (seed %llu)\n", a.file.c_str(),
               tdef.scenarios.size(), threads, static_cast<unsigned long long>(seed));
  // Secret vars and database passwords: out of everything the run records (its messages
  // are redacted in engine/run_coordinator.cc from the same list).
  if (a.no_redact) {
    loaded.secrets.clear();
    if (plan) plan->def.secrets.clear();
  }
  RunMeta meta = MakeRunMeta(tdef, seed, Redactor(tdef.secrets).Apply(command_line));
  if (!overrides.segment.whole()) {
    meta.segment = overrides.segment.ToString();
    meta.segments = overrides.segment.SequenceString();
    std::fprintf(stderr, "loadcell: segment %s of %s: this generator runs its share of the test\n",
                 meta.segment.c_str(), meta.segments.c_str());
  }
  Observers observers;
  // Outputs that cannot be written are reported by name and do not stop the run: what it
  // measures still reaches the console and the other outputs.
  int code = kExitOk;
  auto report_error = [&code](const Status& s) {
    if (s.ok()) return;
    std::fprintf(stderr, "loadcell: %s\n", s.error().message.c_str());
    if (code == kExitOk) code = kExitFailure;
  };
  {
    std::vector<std::string> at_end = {a.report, a.summary_export, a.history};
    for (const std::string& o : a.out) {
      if (!IsNdjson(o)) at_end.push_back(o);
    }
    for (const std::string& path : at_end) {
      if (path.empty()) continue;
      if (Status s = CheckWritable(path); !s.ok()) {
        std::fprintf(stderr, "loadcell: %s (the run goes on; its summary still reaches the console)\n",
                     s.error().message.c_str());
      }
    }
  }
  std::vector<std::unique_ptr<NdjsonWriter>> streams;
  for (const std::string& o : a.out) {
    if (!IsNdjson(o)) continue;
    auto w = std::make_unique<NdjsonWriter>();
    Status s = w->Open(o, meta);
    report_error(s);
    if (!s.ok()) continue;
    observers.Add(w.get());
    streams.push_back(std::move(w));
  }
  std::unique_ptr<LiveServer> live;
  if (!a.prometheus.empty() || !a.dashboard.empty()) {
    // Several generators scraped by one Prometheus: each series says which one it is
    // (the segment's number by default), so that sum() gives the live total.
    Tags labels;
    if (!a.generator.empty()) {
      labels["generator"] = a.generator;
    } else if (!overrides.segment.whole()) {
      labels["generator"] = std::to_string(overrides.segment.index() + 1);
    }
    live = std::make_unique<LiveServer>(LiveServer::Options{a.prometheus, a.dashboard, labels}, meta);
    Status s = live->Start();
    if (!s.ok()) {
      std::fprintf(stderr, "loadcell: %s\n", s.error().message.c_str());
      return s.error().kind == ErrorKind::kInvalidArgument ? kExitBadInput : kExitFailure;
    }
    if (!a.prometheus.empty())
      std::fprintf(stderr, "loadcell: Prometheus metrics at http://%s/metrics\n", a.prometheus.c_str());
    if (!a.dashboard.empty()) std::fprintf(stderr, "loadcell: dashboard at http://%s/\n", a.dashboard.c_str());
    observers.Add(live.get());
  }
  std::unique_ptr<Progress> progress;
  if (!a.quiet) {
    progress = std::make_unique<Progress>(meta, stderr, isatty(STDERR_FILENO) != 0);
    observers.Add(progress.get());
  }
  // Resources: the monitored processes and the host when asked for, the generator always
  // (for the self-check).
  std::vector<ProcessSelector> targets;
  for (int64_t pid : tdef.monitor.pids) targets.push_back({pid, ""});
  for (const std::string& name : tdef.monitor.names) targets.push_back({0, name});
  for (long long pid : a.monitor_pids) targets.push_back({pid, ""});
  const bool monitoring = !targets.empty();
  ProcMonitor monitor(std::move(targets));
  if (monitoring && monitor.Resolve().empty()) {
    std::fprintf(stderr, "loadcell: monitor: no process matches (yet); sampling goes on in case one starts\n");
  }
  ResourceSampler sampler = [&monitor, monitoring](double now_s) {
    std::map<std::string, double> g = monitor.Sample(now_s);
    if (!monitoring) std::erase_if(g, [](const auto& kv) { return !kv.first.starts_with("generator_"); });
    return g;
  };
  TestResult result;
  std::optional<CapacityReport> capacity_report;
  std::vector<ThresholdOutcome> capacity_outcomes;
  if (capacity) {
    auto run = RunCapacitySearch(tdef, {threads, seed, a.insecure, &observers, sampler}, g_interrupted, &g_signals);
    if (!run.ok()) {
      std::fprintf(stderr, "loadcell: %s\n", run.error().message.c_str());
      return run.error().kind == ErrorKind::kInvalidArgument ? kExitBadInput : kExitFailure;
    }
    CapacityRun done = std::move(run).value();
    result = std::move(done.result);
    capacity_report = std::move(done.capacity);
    capacity_outcomes = std::move(done.outcomes);
  } else {
    result = RunTest(*plan, g_interrupted, &g_signals, &observers, sampler);
  }
  const std::string failure = result.failure;
  RunResults results = MakeRunResults(std::move(meta), std::move(result), {});
  results.capacity = std::move(capacity_report);
  AnalysisInputs analysis;
  analysis.thresholds = &tdef;
  if (capacity) analysis.judged = std::move(capacity_outcomes);
  analysis.faults = tdef.faults;
  analysis.apdex_t_ms = static_cast<double>(apdex_t) / 1e6;
  analysis.soak = monitoring;
  analysis.threads = threads;
  analysis.overload_expected = capacity;
  if (a.usl) analysis.usl = &tdef;
  Analyze(results, analysis);
  if (!results.meta.segment.empty()) {
    results.messages.push_back(fmt::format(
        "segment {} of {}: this is one generator's share; the thresholds are about the whole test, so they do not "
        "set this run's exit code: `loadcell merge` judges them on all the parts",
        results.meta.segment, results.meta.segments));
  }
  std::fputs(FormatTestSummary(results).c_str(), stdout);
  std::fflush(stdout);
  for (auto& w : streams) report_error(w->Finish(results));
  for (const std::string& o : a.out) {
    if (!IsNdjson(o)) report_error(WriteFile(o, DumpJson(ResultsJson(results), 1) + "\n"));
  }
  if (!a.report.empty()) report_error(WriteFile(a.report, HtmlReport(results)));
  if (!a.summary_export.empty())
    report_error(WriteFile(a.summary_export, DumpJson(TestSummaryExport(results), 2) + "\n"));
  if (live) {
    live->Finish(results);
    if (linger > 0 && !g_interrupted.load()) {
      std::fprintf(stderr, "loadcell: /metrics and the dashboard stay up for %s (Ctrl-C ends it)\n",
                   FormatDuration(linger).c_str());
      // The run is over and its outcome stands: a Ctrl-C now only ends the wait.
      live->Linger(static_cast<double>(linger) / 1e9, g_interrupted);
    }
    live->Stop();
  }
  int run_code = RunExitCode(results);
  if (!failure.empty()) {
    std::fprintf(stderr, "loadcell: %s\n", failure.c_str());
    if (run_code == kExitOk || run_code == 99) run_code = kExitFailure;
  }
  if (!a.history.empty()) {
    auto db = HistoryDb::Open(a.history);
    if (!db.ok()) {
      report_error(db.error());
    } else {
      auto id = (*db)->Record(results, run_code);
      if (!id.ok()) report_error(id.error());
    }
  }
  return run_code != kExitOk ? run_code : code;
}

}  // namespace loadcell
