// `loadcell target`: a small, fast HTTP/1.1 server for demos and tests, with knobs that
// make it behave like a real service under load (latency distribution, error rate,
// periodic stalls). Each thread owns a SO_REUSEPORT listener and its epoll loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "common/result.h"
#include "target/latency_dist.h"

namespace loadcell {

struct TargetOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: pick a free port
  int threads = 1;
  LatencyDist latency;
  double slowdown = 1;    // multiplies every sampled latency: a degraded build, for comparisons
  double error_rate = 0;  // probability of a 500
  size_t body_size = 13;  // bytes of the 200 body
  StallSpec stall;
  uint64_t seed = 1;
  // Known memory growth for soak tests: MiB per minute, touched so it counts in RSS,
  // up to leak_cap_mb (0: no cap; a cap makes a cache that levels off, not a leak).
  // Simulated workers (0: off): each request is served by the first free one, taking a
  // --latency sample as its service time; capacity = workers / E[service] per thread.
  int workers = 0;
  double leak_mb_per_min = 0;
  double leak_cap_mb = 0;
};

// Serves until `stop` becomes true. `on_listening` gets the bound port (printed by the CLI
// so tests can find it). Returns an error when it cannot listen.
Status RunTarget(const TargetOptions& options, const std::atomic<bool>& stop,
                 const std::function<void(uint16_t)>& on_listening);

}  // namespace loadcell
