// `loadcell quick URL`: one URL under load from the command line, wrk's way. The flags
// make a test (scenario/quick_definition) that runs on the same engine as `run`, with the
// same results, outputs and analysis; only the console summary is quick's own.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "cli/arguments.h"
#include "cli/commands.h"
#include "common/units.h"
#include "engine/run_coordinator.h"
#include "engine/run_plan.h"
#include "output/quick_summary.h"
#include "protocol/http1/request.h"
#include "scenario/quick_definition.h"

namespace loadcell {
namespace {

// One line naming the argument, then exit 104.
int BadArg(const std::string& arg, const std::string& message) {
  std::fprintf(stderr, "loadcell: %s: %s\n", arg.c_str(), message.c_str());
  return kExitBadInput;
}

void RaiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

void AddQuickOptions(CLI::App& cmd, QuickArgs& a) {
  cmd.add_option("url", a.url, "Target URL (http:// or https://)")->required();
  cmd.add_option("-c,--connections", a.connections, "Connections (closed model: concurrent requests)")
      ->check(CLI::Range(1, 1000000));
  cmd.add_option("-t,--threads", a.threads, "Worker threads (default: one per core)")->check(CLI::Range(1, 1024));
  cmd.add_option("-d,--duration", a.duration, "Test duration, e.g. 10s, 1m30s");
  cmd.add_option("-R,--rate", a.rate, "Open model: requests per second across all threads");
  cmd.add_option("-H,--header", a.headers, "Request header 'Name: value' (repeatable)");
  cmd.add_option("-m,--method", a.method, "HTTP method");
  cmd.add_option("--body", a.body, "Request body, or @file to read it from a file");
  cmd.add_option("--timeout", a.timeout, "Per-request timeout, connect included");
  cmd.add_option("--warmup", a.warmup, "Run this long before measuring");
  cmd.add_option("--grace", a.grace, "How long in-flight requests may finish after the duration");
  cmd.add_flag("--insecure", a.insecure, "Skip TLS certificate verification");
  cmd.add_flag("--no-redact", a.no_redact, "Record credentials (Authorization, Cookie headers) as given");
  cmd.add_flag("--h2", a.h2, "HTTP/2 (ALPN h2 over TLS; prior knowledge over cleartext http://)");
  cmd.add_option("--streams", a.streams, "HTTP/2: concurrent streams per connection (default 1)");
  cmd.add_option("--json", a.json, "Deprecated: the same as --out F (F ending in .json)");
  cmd.add_option("--seed", a.seed, "Seed for the workers' random generators")->check(CLI::NonNegativeNumber);
  AddMonitorOptions(cmd, &a.monitor_pids, &a.monitor_scrapes, &a.monitor_postgres);
  cmd.add_option("--apdex-t", a.apdex_t, "Apdex threshold T (satisfied <= T, tolerating <= 4T)");
  // Gone with quick's own engine: every run records the same histograms now.
  cmd.add_option("--hdr-max", a.hdr_max)->group("");
  cmd.add_option("--hdr-digits", a.hdr_digits)->group("");
  AddOutputOptions(cmd, a.outputs);
}

int RunQuick(const QuickArgs& a, const std::string& command_line) {
  QuickOptions q;
  auto url = ParseUrl(a.url);
  if (!url.ok()) return BadArg("url", url.error().message);
  if (url->websocket()) return BadArg("url", "quick sends HTTP requests; for WebSocket write a test with a `ws` step");
  q.url = *url;
  for (const auto& [flag, value] : {std::pair{"--hdr-max", &a.hdr_max}, std::pair{"--hdr-digits", &a.hdr_digits}}) {
    if (!value->empty()) {
      return BadArg(flag,
                    "no longer an option: quick records the histograms every run does (1 us to 1 h, 3 significant "
                    "digits; docs/results-format.md)");
    }
  }
  // Durations: "name" for messages, whether zero is allowed.
  auto duration_arg = [](const char* name, const std::string& text, bool allow_zero, Nanos* out) -> bool {
    auto d = ParseDuration(text);
    if (!d.ok()) return BadArg(name, d.error().message), false;
    if (!allow_zero && *d <= 0) return BadArg(name, "must be greater than zero"), false;
    *out = *d;
    return true;
  };
  Nanos warmup = 0, apdex_t = 0, linger = 0;
  if (!duration_arg("-d/--duration", a.duration, false, &q.duration) ||
      !duration_arg("--timeout", a.timeout, false, &q.timeout) || !duration_arg("--warmup", a.warmup, true, &warmup) ||
      !duration_arg("--grace", a.grace, true, &q.grace) || !duration_arg("--apdex-t", a.apdex_t, false, &apdex_t)) {
    return kExitBadInput;
  }
  if (!a.rate.empty()) {
    auto rate = ParsePositiveNumber(a.rate);
    if (!rate.ok()) return BadArg("-R/--rate", rate.error().message);
    q.rate = *rate;
  }
  OutputArgs outputs = a.outputs;
  if (!a.json.empty()) {
    if (!a.json.ends_with(".json")) return BadArg("--json", "the file name must end in .json (or use --out)");
    std::fprintf(stderr, "loadcell: --json is deprecated: use --out %s (the same file: loadcell.results/v1)\n",
                 a.json.c_str());
    outputs.out.push_back(a.json);
  }
  if (!CheckOutputArgs(outputs, &linger)) return kExitBadInput;
  q.connections = a.connections;
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  int threads = std::min(a.threads > 0 ? a.threads : static_cast<int>(cores), q.connections);
  q.method = a.method;
  for (char& ch : q.method) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  for (const std::string& h : a.headers) {
    auto kv = http1::ParseHeaderArg(h);
    if (!kv.ok()) return BadArg("-H/--header", kv.error().message);
    q.headers.push_back(*kv);
  }
  if (a.body.starts_with("@")) {
    std::ifstream f(a.body.substr(1), std::ios::binary);
    if (!f) return BadArg("--body", fmt::format("cannot read file \"{}\"", a.body.substr(1)));
    std::stringstream ss;
    ss << f.rdbuf();
    q.body = ss.str();
  } else {
    q.body = a.body;
  }
  if (a.streams < 1) return BadArg("--streams", "must be at least 1");
  if (a.streams > 1 && !a.h2)
    return BadArg("--streams", "needs --h2 (HTTP/1.1 has one request per connection at a time)");
  q.h2 = a.h2;
  q.streams = a.streams;
  {
    // The request as it will be sent, checked now: a bad method or header is the flag's error.
    http1::RequestSpec spec;
    spec.method = q.method;
    spec.url = q.url;
    spec.headers = q.headers;
    spec.body = q.body;
    auto request = http1::CompileRequest(spec);
    if (!request.ok()) return BadArg(a.headers.empty() ? "-m/--method" : "-H/--header", request.error().message);
  }
  const uint64_t seed = a.seed >= 0 ? static_cast<uint64_t>(a.seed) : std::random_device{}();
  RaiseFileLimit();

  TestDefinition def = QuickDefinition(q);
  if (warmup > 0) {
    // The warm-up is a run of its own before the measured one, with nothing recorded.
    TestDefinition warm = def;
    warm.scenarios[0].duration = warmup;
    auto plan = PrepareTest(std::move(warm), {}, threads, seed, a.insecure);
    if (!plan.ok()) return BadArg("url", plan.error().message);
    std::fprintf(stderr, "loadcell: warming up for %s\n", FormatDuration(warmup).c_str());
    (void)RunTest(**plan, g_interrupted, &g_signals);
    if (g_interrupted.load()) return kExitInterrupted;
  }
  auto prepared = PrepareTest(std::move(def), {}, threads, seed, a.insecure);
  if (!prepared.ok()) {
    std::fprintf(stderr, "loadcell: %s\n", prepared.error().message.c_str());
    return prepared.error().kind == ErrorKind::kInvalidArgument ? kExitBadInput : kExitFailure;
  }
  std::unique_ptr<TestPlan> plan = std::move(prepared).value();
  QuickHeader header{q.method,      fmt::format("{}://{}{}", q.url.scheme, q.url.HostHeader(), q.url.path),
                     q.connections, threads,
                     q.rate,        q.duration,
                     seed};
  std::fprintf(stderr, "loadcell: %s %s for %s, %d connections, %d threads, %s (seed %llu)\n", q.method.c_str(),
               a.url.c_str(), FormatDuration(q.duration).c_str(), q.connections, threads,
               q.rate > 0 ? fmt::format("open model at {} req/s", q.rate).c_str() : "closed model",
               static_cast<unsigned long long>(seed));
  RunSession session;
  session.def = &plan->def;
  session.plan = plan.get();
  session.threads = threads;
  session.seed = seed;
  session.insecure = a.insecure;
  session.meta = MakeRunMeta(plan->def, seed, command_line);  // -H credentials redacted in main
  session.apdex_t = apdex_t;
  session.monitor_pids = a.monitor_pids;
  session.monitor_scrapes = a.monitor_scrapes;
  session.monitor_postgres = a.monitor_postgres;
  session.linger = linger;
  session.summary = [header](const RunResults& r) { return FormatQuickSummary(r, header); };
  return RunAndReport(session, outputs);
}

}  // namespace loadcell
