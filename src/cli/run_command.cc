#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "analysis/pipeline.h"
#include "cli/arguments.h"
#include "cli/commands.h"

#include "common/redact.h"
#include "common/units.h"
#include "engine/capacity_run.h"
#include "engine/generator_fit.h"
#include "engine/lifecycle.h"
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
  cmd.add_option("--seed", a.seed, "Seed for the VUs' random generators")->check(CLI::NonNegativeNumber);
  cmd.add_flag("--insecure", a.insecure, "Skip TLS certificate verification");
  cmd.add_flag("--no-redact", a.no_redact,
               "Record credentials (Authorization, Cookie headers, secret vars, -e secrets) as given");
  cmd.add_flag("--confine-files", a.confine_files,
               "Data files only by relative paths without `..` (inside the test's directory): how `serve` runs tests");
  cmd.add_option("--max-value-size", a.max_value_size,
                 "The largest value the test file may expand to (YAML aliases), e.g. 10MB");
  cmd.add_flag("--strict-thresholds", a.strict_thresholds,
               "A threshold that no sample matched fails (else it shows as '? no data' and does not fail)");
  cmd.add_flag("--usl", a.usl, "Read the stepped ramping-vus run as a sweep: USL fit and Little's law per step");
  cmd.add_option("--apdex-t", a.apdex_t, "Apdex threshold T per request name (satisfied <= T, tolerating <= 4T)");
  AddMonitorOptions(cmd, &a.monitor_pids, &a.monitor_scrapes, &a.monitor_postgres);
  cmd.add_option("--segment", a.segment,
                 "Run this generator's share of the test: K/N (the K-th of N generators) or FROM:TO (k6's form)");
  cmd.add_option("--segments", a.segments,
                 "The sequence the test is split by, e.g. 0,1/4,1/2,1 (with --segment-index)");
  cmd.add_option("--segment-index", a.segment_index, "Which segment of --segments this generator runs (1 = the first)")
      ->check(CLI::Range(1, 1000000));
  cmd.add_option("--setup-data", a.setup_data,
                 "What the test's setup left (a file `loadcell setup -o` wrote): used instead of running setup");
  AddOutputOptions(cmd, a.outputs);
}

void AddSetupOptions(CLI::App& cmd, SetupArgs& a) {
  cmd.add_option("file", a.file, "Test definition (YAML)")->required();
  cmd.add_option("-o,--out", a.out, "Where to write what setup left (JSON), for run --setup-data")->required();
  cmd.add_option("-e,--env", a.env, "KEY=VALUE visible as env.KEY and ${KEY} (repeatable)");
  cmd.add_option("--seed", a.seed, "Seed for the random generators")->check(CLI::NonNegativeNumber);
  cmd.add_flag("--insecure", a.insecure, "Skip TLS certificate verification");
}

void AddTeardownOptions(CLI::App& cmd, SetupArgs& a) {
  cmd.add_option("file", a.file, "Test definition (YAML)")->required();
  cmd.add_option("--setup-data", a.setup_data, "What setup left (the file `loadcell setup -o` wrote)")->required();
  cmd.add_option("-e,--env", a.env, "KEY=VALUE visible as env.KEY and ${KEY} (repeatable)");
  cmd.add_option("--seed", a.seed, "Seed for the random generators")->check(CLI::NonNegativeNumber);
  cmd.add_flag("--insecure", a.insecure, "Skip TLS certificate verification");
}

namespace {
Result<SetupData> ReadSetupData(const std::string& file) {
  std::ifstream f(file, std::ios::binary);
  if (!f) return Error::Io("cannot read it");
  std::stringstream text;
  text << f.rdbuf();
  return ParseSetupData(text.str());
}
}  // namespace

int RunTeardownCommand(const SetupArgs& a) {
  LoadOptions options;
  if (!ParseEnvArgs(a.env, &options.env)) return kExitBadInput;
  auto def = LoadTestArgument(a.file, options);
  if (!def) return kExitBadInput;
  if (def->teardown.empty()) {
    std::fprintf(stderr, "loadcell: %s: the test has no `teardown`\n", a.file.c_str());
    return kExitBadInput;
  }
  auto data = ReadSetupData(a.setup_data);
  if (!data.ok()) {
    std::fprintf(stderr, "loadcell: --setup-data: %s: %s\n", a.setup_data.c_str(), data.error().message.c_str());
    return kExitBadInput;
  }
  uint64_t seed = a.seed >= 0 ? static_cast<uint64_t>(a.seed) : std::random_device{}();
  auto run = RunLifecycle(*def, def->teardown, "teardown", *data, seed, a.insecure, g_interrupted);
  if (!run.ok()) {
    std::fprintf(stderr, "loadcell: %s\n", run.error().message.c_str());
    return kExitFailure;
  }
  std::fprintf(stderr, "loadcell: %s\n", DescribeLifecycle("teardown", *run).c_str());
  return kExitOk;
}

int RunSetupCommand(const SetupArgs& a) {
  LoadOptions options;
  if (!ParseEnvArgs(a.env, &options.env)) return kExitBadInput;
  auto def = LoadTestArgument(a.file, options);
  if (!def) return kExitBadInput;
  if (def->setup.empty()) {
    std::fprintf(stderr, "loadcell: %s: the test has no `setup`\n", a.file.c_str());
    return kExitBadInput;
  }
  uint64_t seed = a.seed >= 0 ? static_cast<uint64_t>(a.seed) : std::random_device{}();
  auto run = RunLifecycle(*def, def->setup, "setup", {}, seed, a.insecure, g_interrupted);
  if (!run.ok()) {
    std::fprintf(stderr, "loadcell: %s\n", run.error().message.c_str());
    return kExitFailure;
  }
  std::fprintf(stderr, "loadcell: %s\n", DescribeLifecycle("setup", *run).c_str());
  std::ofstream f(a.out, std::ios::binary | std::ios::trunc);
  f << SetupDataJson(run->data);
  if (!f) {
    std::fprintf(stderr, "loadcell: --out: cannot write %s\n", a.out.c_str());
    return kExitFailure;
  }
  return kExitOk;
}

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
  if (!CheckOutputArgs(a.outputs, &linger)) return kExitBadInput;
  auto def = LoadTestArgument(a.file, options);
  if (!def) return kExitBadInput;
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  int threads = a.threads > 0 ? a.threads : static_cast<int>(cores);
  uint64_t seed = a.seed >= 0 ? static_cast<uint64_t>(a.seed) : std::random_device{}();
  TestDefinition loaded = std::move(*def);
  if (a.strict_thresholds) loaded.strict_thresholds = true;
  // capacity-search runs a sequence of steps (engine/capacity_run.h); everything else one plan.
  const bool capacity = std::any_of(loaded.scenarios.begin(), loaded.scenarios.end(),
                                    [](const ScenarioDef& s) { return s.executor == ExecutorKind::kCapacitySearch; });
  std::unique_ptr<TestPlan> plan;
  if (capacity) {
    if (!loaded.setup.empty() || !loaded.teardown.empty()) {
      std::fprintf(stderr, "loadcell: %s: setup and teardown do not run with executor capacity-search yet\n",
                   a.file.c_str());
      return kExitBadInput;
    }
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
  // The test's setup, once, before any VU starts: its variables are every VU's `setup.NAME`.
  SetupData setup_data;
  if (!a.setup_data.empty()) {
    auto parsed = ReadSetupData(a.setup_data);
    if (!parsed.ok()) {
      std::fprintf(stderr, "loadcell: --setup-data: %s: %s\n", a.setup_data.c_str(), parsed.error().message.c_str());
      return kExitBadInput;
    }
    setup_data = std::move(parsed).value();
  } else if (!tdef.setup.empty()) {
    auto run = RunLifecycle(tdef, tdef.setup, "setup", {}, seed, a.insecure, g_interrupted);
    if (!run.ok()) {
      std::fprintf(stderr, "loadcell: %s; the test did not start\n", run.error().message.c_str());
      return g_interrupted.load() ? kExitInterrupted : kExitFailure;
    }
    std::fprintf(stderr, "loadcell: %s\n", DescribeLifecycle("setup", *run).c_str());
    setup_data = std::move(run->data);
  }
  if (plan) plan->setup = setup_data;
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
  RunSession session;
  session.def = &tdef;
  session.plan = plan.get();
  session.overrides = overrides;
  session.threads = threads;
  session.seed = seed;
  session.insecure = a.insecure;
  session.meta = std::move(meta);
  session.apdex_t = apdex_t;
  session.usl = a.usl;
  session.monitor_pids = a.monitor_pids;
  session.monitor_scrapes = a.monitor_scrapes;
  session.monitor_postgres = a.monitor_postgres;
  session.linger = linger;
  session.summary = [](const RunResults& r) { return FormatTestSummary(r); };
  int rc = RunAndReport(session, a.outputs);
  if (!tdef.teardown.empty() && a.setup_data.empty()) {
    // Once at the end, also after Ctrl-C (with its own stop flag: the run's is set by then).
    // A generator given --setup-data is one of a split run: `loadcell teardown` runs it once.
    static std::atomic<bool> teardown_stop{false};
    auto run = RunLifecycle(tdef, tdef.teardown, "teardown", setup_data, seed, a.insecure, teardown_stop);
    if (run.ok()) {
      std::fprintf(stderr, "loadcell: %s\n", DescribeLifecycle("teardown", *run).c_str());
    } else {
      std::fprintf(stderr, "loadcell: %s\n", run.error().message.c_str());
      if (rc == kExitOk) rc = kExitFailure;
    }
  }
  return rc;
}

}  // namespace loadcell
