#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.h"
#include "common/units.h"
#include "target/target_server.h"

namespace loadcell {

void AddTargetOptions(CLI::App& cmd, TargetArgs& a) {
  cmd.add_option("--listen", a.listen, "HOST:PORT to listen on (port 0 picks a free one)");
  cmd.add_option("-t,--threads", a.threads, "Server threads")->check(CLI::Range(1, 256));
  cmd.add_option("--latency", a.latency,
                 "Response time: fixed:20ms | uniform:5ms..50ms | normal:20ms,5ms | "
                 "lognormal:20ms,0.5 | exp:20ms");
  cmd.add_option("--error-rate", a.error_rate, "Probability of a 500 response (0.01 or 1%)");
  cmd.add_option("--body-size", a.body_size, "Bytes in each 200 response body")->check(CLI::Range(0LL, 1LL << 30));
  cmd.add_option("--stall", a.stall, "Freeze all responses for LENGTH every PERIOD, e.g. 1s/10s");
  cmd.add_option("--slowdown", a.slowdown, "Multiply every --latency sample by this factor (a degraded build)")
      ->check(CLI::Range(0.01, 1000.0));
  cmd.add_option("--workers", a.workers,
                 "Serve with this many simulated workers: requests queue for one, --latency is the service time "
                 "(capacity = workers / mean service time)")
      ->check(CLI::Range(0, 100000));
  cmd.add_option("--leak", a.leak, "Grow resident memory by this many MiB per minute (soak-test truth)")
      ->check(CLI::Range(0.0, 100000.0));
  cmd.add_option("--leak-cap", a.leak_cap, "Stop growing at this many MiB (a cache that levels off)")
      ->check(CLI::Range(0.0, 1000000.0));
}

int RunTargetCommand(const TargetArgs& a) {
  auto bad = [](const char* arg, const std::string& msg) {
    std::fprintf(stderr, "loadcell: %s: %s\n", arg, msg.c_str());
    return kExitBadInput;
  };
  TargetOptions o;
  size_t colon = a.listen.rfind(':');
  if (colon == std::string::npos)
    return bad("--listen", fmt::format("invalid address \"{}\": expected HOST:PORT", a.listen));
  o.host = a.listen.substr(0, colon);
  if (o.host.starts_with("[") && o.host.ends_with("]")) o.host = o.host.substr(1, o.host.size() - 2);
  std::string port = a.listen.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535) {
    return bad("--listen", fmt::format("invalid port \"{}\"", port));
  }
  o.port = static_cast<uint16_t>(std::stoi(port));
  o.threads = a.threads;
  o.slowdown = a.slowdown;
  o.leak_mb_per_min = a.leak;
  o.workers = a.workers;
  o.leak_cap_mb = a.leak_cap;
  if (!a.latency.empty()) {
    auto d = LatencyDist::Parse(a.latency);
    if (!d.ok()) return bad("--latency", d.error().message);
    o.latency = *d;
  }
  auto p = ParseProbability(a.error_rate);
  if (!p.ok()) return bad("--error-rate", p.error().message);
  o.error_rate = *p;
  o.body_size = static_cast<size_t>(a.body_size);
  if (!a.stall.empty()) {
    auto s = StallSpec::Parse(a.stall);
    if (!s.ok()) return bad("--stall", s.error().message);
    o.stall = *s;
  }
  Status s = RunTarget(o, g_interrupted, [&](uint16_t bound) {
    std::printf("loadcell target listening on http://%s:%u\n",
                o.host.find(':') != std::string::npos ? ("[" + o.host + "]").c_str() : o.host.c_str(), bound);
    std::fflush(stdout);
  });
  if (!s.ok()) {
    std::fprintf(stderr, "loadcell: target: %s\n", s.error().message.c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace loadcell
