#include "net/local_limits.h"

#include <sys/resource.h>

#include <atomic>
#include <cerrno>
#include <fstream>

#include <fmt/format.h>

namespace loadcell {
namespace {

std::atomic<int64_t> g_open{0};
std::atomic<int64_t> g_fd_failures{0};
std::atomic<int64_t> g_open_at_fd{-1};
std::atomic<int64_t> g_port_failures{0};
std::atomic<int64_t> g_open_at_port{-1};

void First(std::atomic<int64_t>& slot) {
  int64_t unset = -1;
  slot.compare_exchange_strong(unset, g_open.load(std::memory_order_relaxed));
}

}  // namespace

void CountOpenSocket(int delta) { g_open.fetch_add(delta, std::memory_order_relaxed); }

bool NoteLocalFailure(int err) {
  if (err == EMFILE || err == ENFILE) {
    First(g_open_at_fd);
    g_fd_failures.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  if (err == EADDRNOTAVAIL) {
    First(g_open_at_port);
    g_port_failures.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  return false;
}

LocalLimits ReadLocalLimits() {
  LocalLimits l;
  l.fd_failures = g_fd_failures.load();
  l.open_at_fd = std::max<int64_t>(0, g_open_at_fd.load());
  l.port_failures = g_port_failures.load();
  l.open_at_port = std::max<int64_t>(0, g_open_at_port.load());
  return l;
}

void ResetLocalLimits() {
  g_fd_failures = 0;
  g_open_at_fd = -1;
  g_port_failures = 0;
  g_open_at_port = -1;
}

std::vector<std::string> LocalLimitMessages(const LocalLimits& l) {
  std::vector<std::string> out;
  if (l.fd_failures > 0) {
    rlimit rl{};
    std::string limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? fmt::format("{}", rl.rlim_cur) : "unknown";
    out.push_back(fmt::format(
        "out of file descriptors: {} connection attempts failed (Too many open files) once {} connections were "
        "open; the limit is ulimit -n = {}. Raise it (ulimit -n) or use fewer connections/VUs: these failures are "
        "the generator's, not the target's",
        l.fd_failures, l.open_at_fd, limit));
  }
  if (l.port_failures > 0) {
    std::string range = "unknown";
    std::ifstream f("/proc/sys/net/ipv4/ip_local_port_range");
    if (int lo = 0, hi = 0; f >> lo >> hi) range = fmt::format("{}-{} ({} ports)", lo, hi, hi - lo + 1);
    out.push_back(fmt::format(
        "out of local ports: {} connection attempts failed (Cannot assign requested address) once {} connections "
        "were open; the ephemeral port range is {} (net.ipv4.ip_local_port_range), and ports of closed "
        "connections wait in TIME_WAIT. Keep connections alive, widen the range, or add source addresses: these "
        "failures are the generator's, not the target's",
        l.port_failures, l.open_at_port, range));
  }
  return out;
}

}  // namespace loadcell
