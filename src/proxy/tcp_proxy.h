// `loadcell proxy`: a TCP relay between two services that injects faults into what passes
// through it (FaultSet), so that a fault can sit between, say, an API and its database while
// loadcell loads the API. One thread, one epoll loop; each accepted connection gets its own
// upstream connection. How each fault acts:
//
// - blackhole: nothing is relayed in either direction and new connections are not passed
//   upstream while it lasts (data waits in the kernel's buffers, as dropped packets wait
//   for their retransmission); afterwards everything flows again;
// - latency ± jitter: each chunk from upstream reaches the client that much later (in
//   order), so a request-response exchange is slower by the latency once;
// - reset (probability p): each new connection, and each chunk from a client, is reset
//   (both sides get an RST) with probability p;
// - bandwidth: data from upstream is relayed at most `rate` bytes per second per
//   connection, in 100 ms slices.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "common/result.h"
#include "net/resolver.h"
#include "proxy/fault_set.h"

namespace loadcell {

struct ProxyStats {
  std::atomic<int64_t> connections{0}, resets{0}, bytes_up{0}, bytes_down{0};
};

// Relays from `listen_fd` (already listening) to `upstream` until `stop`.
Status RunProxy(int listen_fd, const Endpoint& upstream, FaultSet& faults, ProxyStats& stats,
                const std::atomic<bool>& stop);

}  // namespace loadcell
