#include <sys/resource.h>

#include <cstdio>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "analysis/threshold_eval.h"
#include "cli/commands.h"
#include "common/units.h"
#include "engine/test_plan.h"
#include "engine/test_run.h"
#include "output/export.h"
#include "output/test_summary.h"
#include "scenario/loader.h"

namespace loadcell {

void AddRunOptions(CLI::App& cmd, RunArgs& a) {
  cmd.add_option("file", a.file, "Test definition (YAML)")->required();
  cmd.add_option("-e,--env", a.env, "KEY=VALUE visible as env.KEY and ${KEY} (repeatable)");
  cmd.add_option("--vus", a.vus, "Run the (single) scenario as constant-vus with this many VUs")->check(CLI::Range(1, 1000000));
  cmd.add_option("--duration", a.duration, "... for this long");
  cmd.add_option("-t,--threads", a.threads, "Worker threads (default: one per core)")->check(CLI::Range(1, 1024));
  cmd.add_option("--summary-export", a.summary_export, "Write the summary (k6 layout) here");
  cmd.add_option("--seed", a.seed, "Seed for the VUs' random generators")->check(CLI::NonNegativeNumber);
  cmd.add_flag("--insecure", a.insecure, "Skip TLS certificate verification");
}

int RunTestCommand(const RunArgs& a) {
  LoadOptions options;
  if (!ParseEnvArgs(a.env, &options.env)) return kExitBadInput;
  RunOverrides overrides;
  overrides.vus = a.vus;
  if (!a.duration.empty()) {
    auto d = ParseDuration(a.duration);
    if (!d.ok() || *d <= 0) {
      std::fprintf(stderr, "loadcell: --duration: %s\n", d.ok() ? "must be greater than zero" : d.error().message.c_str());
      return kExitBadInput;
    }
    overrides.duration = *d;
  }
  auto def = LoadTestFile(a.file, options);
  if (!def.ok()) {
    std::fprintf(stderr, "%s\n", def.error().message.c_str());
    return kExitBadInput;
  }
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  int threads = a.threads > 0 ? a.threads : static_cast<int>(cores);
  uint64_t seed = a.seed >= 0 ? static_cast<uint64_t>(a.seed) : std::random_device{}();
  auto plan = PrepareTest(std::move(def).value(), overrides, threads, seed, a.insecure);
  if (!plan.ok()) {
    std::fprintf(stderr, "loadcell: %s\n", plan.error().message.c_str());
    return plan.error().kind == ErrorKind::kInvalidArgument ? kExitBadInput : kExitFailure;
  }
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  const TestPlan& p = **plan;
  std::fprintf(stderr, "loadcell: running %s: %zu scenario(s), %d threads (seed %llu)\n", a.file.c_str(),
               p.def.scenarios.size(), threads, static_cast<unsigned long long>(seed));
  TestResult result = RunTest(p, g_interrupted, &g_signals);
  auto outcomes = EvaluateThresholds(p.def, result.store, result.duration_s);
  std::fputs(FormatTestSummary(p.def, result, outcomes).c_str(), stdout);
  std::fflush(stdout);
  int code = kExitOk;
  for (const ThresholdOutcome& o : outcomes) {
    if (!o.ok) code = kExitThresholds;
  }
  if (!result.aborted_by.empty()) code = kExitThresholds;
  if (result.interrupted) code = kExitInterrupted;
  if (!a.summary_export.empty()) {
    Status s = WriteFile(a.summary_export, TestSummaryExport(p.def, result, outcomes).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    if (!s.ok()) {
      std::fprintf(stderr, "loadcell: %s\n", s.error().message.c_str());
      if (code == kExitOk) code = kExitFailure;
    }
  }
  return code;
}

}  // namespace loadcell
