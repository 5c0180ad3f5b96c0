#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "analysis/self_check.h"
#include "cli/commands.h"
#include "common/units.h"
#include "engine/quick_run.h"
#include "net/local_limits.h"
#include "output/console.h"
#include "output/export.h"
#include "protocol/http1/request.h"

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
  cmd.add_option("--summary-export", a.summary_export, "Write the k6-style summary JSON here");
  cmd.add_option("--json", a.json, "Write the full results (histograms, per-second series) here");
  cmd.add_option("--hlog", a.hlog, "Write an HdrHistogram interval log (v1.3) here");
  cmd.add_option("--seed", a.seed, "Seed for the workers' random generators")->check(CLI::NonNegativeNumber);
  cmd.add_flag("-q,--quiet", a.quiet, "No live progress line");
  cmd.add_option("--hdr-max", a.hdr_max, "Largest latency the histograms track (from 1us)");
  cmd.add_option("--hdr-digits", a.hdr_digits, "Significant digits of the histograms")->check(CLI::Range(1, 5));
}

int RunQuick(const QuickArgs& a, const std::string& command_line) {
  QuickPlan plan;
  plan.command_line = command_line;
  auto url = ParseUrl(a.url);
  if (!url.ok()) return BadArg("url", url.error().message);
  if (url->websocket()) return BadArg("url", "quick sends HTTP requests; for WebSocket write a test with a `ws` step");
  plan.url = *url;
  // Durations: "name" for messages, whether zero is allowed.
  auto duration_arg = [](const char* name, const std::string& text, bool allow_zero, Nanos* out) -> bool {
    auto d = ParseDuration(text);
    if (!d.ok()) return BadArg(name, d.error().message), false;
    if (!allow_zero && *d <= 0) return BadArg(name, "must be greater than zero"), false;
    *out = *d;
    return true;
  };
  if (!duration_arg("-d/--duration", a.duration, false, &plan.duration) ||
      !duration_arg("--timeout", a.timeout, false, &plan.timeout) ||
      !duration_arg("--warmup", a.warmup, true, &plan.warmup) || !duration_arg("--grace", a.grace, true, &plan.grace)) {
    return kExitBadInput;
  }
  Nanos hdr_max = 0;
  if (!duration_arg("--hdr-max", a.hdr_max, false, &hdr_max)) return kExitBadInput;
  if (hdr_max < 2 * kMicro) return BadArg("--hdr-max", "must be at least 2us");
  plan.histograms.highest_us = hdr_max / kMicro;
  plan.histograms.digits = a.hdr_digits;
  if (!a.rate.empty()) {
    auto rate = ParsePositiveNumber(a.rate);
    if (!rate.ok()) return BadArg("-R/--rate", rate.error().message);
    plan.rate = *rate;
  }
  plan.connections = a.connections;
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  plan.threads = a.threads > 0 ? a.threads : static_cast<int>(cores);
  plan.threads = std::min(plan.threads, plan.connections);
  plan.insecure = a.insecure;
  plan.method = a.method;
  for (char& ch : plan.method) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));

  http1::RequestSpec spec;
  spec.method = plan.method;
  spec.url = plan.url;
  for (const std::string& h : a.headers) {
    auto kv = http1::ParseHeaderArg(h);
    if (!kv.ok()) return BadArg("-H/--header", kv.error().message);
    spec.headers.push_back(*kv);
  }
  if (a.body.starts_with("@")) {
    std::ifstream f(a.body.substr(1), std::ios::binary);
    if (!f) return BadArg("--body", fmt::format("cannot read file \"{}\"", a.body.substr(1)));
    std::stringstream ss;
    ss << f.rdbuf();
    spec.body = ss.str();
  } else {
    spec.body = a.body;
  }
  auto request = http1::CompileRequest(spec);
  if (!request.ok()) return BadArg(a.headers.empty() ? "-m/--method" : "-H/--header", request.error().message);
  plan.request = std::move(*request);
  if (a.streams < 1) return BadArg("--streams", "must be at least 1");
  if (a.streams > 1 && !a.h2)
    return BadArg("--streams", "needs --h2 (HTTP/1.1 has one request per connection at a time)");
  if (a.h2) {
    auto h2req = h2::H2Request::Compile(plan.method, plan.url, spec.headers, spec.body);
    if (!h2req.ok()) return BadArg("-H/--header", h2req.error().message);
    plan.h2_request.emplace(std::move(h2req).value());
    plan.streams = a.streams;
  }

  plan.seed = a.seed >= 0 ? static_cast<uint64_t>(a.seed) : std::random_device{}();
  RaiseFileLimit();

  bool live_on = !a.quiet && isatty(STDERR_FILENO) != 0;
  double total_s = static_cast<double>(plan.duration) / 1e9;
  std::fprintf(stderr, "loadcell: %s %s for %s, %d connections, %d threads, %s (seed %llu)\n", plan.method.c_str(),
               a.url.c_str(), FormatDuration(plan.duration).c_str(), plan.connections, plan.threads,
               plan.rate > 0 ? fmt::format("open model at {} req/s", plan.rate).c_str() : "closed model",
               static_cast<unsigned long long>(plan.seed));
  LiveFn live;
  if (live_on) {
    live = [total_s](const QuickSecond& p) { std::fprintf(stderr, "%s\n", FormatLiveLine(p, total_s).c_str()); };
  }
  for (const std::string* path : {&a.summary_export, &a.json, &a.hlog}) {
    if (path->empty()) continue;
    if (Status s = CheckWritable(*path); !s.ok()) {
      std::fprintf(stderr, "loadcell: %s (the run goes on; its summary still reaches the console)\n",
                   s.error().message.c_str());
    }
  }
  auto run = ExecuteRun(plan, g_interrupted, live);
  if (!run.ok()) {
    std::fprintf(stderr, "loadcell: %s\n", run.error().message.c_str());
    return kExitFailure;
  }
  RunResult result = std::move(run).value();
  result.warnings = SelfCheck(result);
  for (std::string& m : LocalLimitMessages(ReadLocalLimits())) result.warnings.push_back(std::move(m));

  std::fputs(FormatSummary(result).c_str(), stdout);
  std::fflush(stdout);

  int code = result.interrupted ? kExitInterrupted : kExitOk;
  auto write = [&](const std::string& path, const std::string& content) {
    if (path.empty()) return;
    Status s = WriteFile(path, content);
    if (!s.ok()) {
      std::fprintf(stderr, "loadcell: %s\n", s.error().message.c_str());
      if (code == kExitOk) code = kExitFailure;
    }
  };
  write(a.summary_export, SummaryExport(result).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  write(a.json, FullJson(result).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  write(a.hlog, IntervalLog(result));
  return code;
}

}  // namespace loadcell
