#include "analysis/self_check.h"

#include <fmt/format.h>

namespace loadcell {

std::vector<std::string> SelfCheckTest(const MetricStore& store, double duration_s, int threads,
                                       bool overload_expected) {
  std::vector<std::string> out;
  if (store.Has("generator_cpu")) {
    SeriesAggregate cpu = store.Select("generator_cpu", {});
    double limit = 100.0 * kWorkerCpuWarn * std::max(1, threads);
    if (cpu.max > limit) {
      out.push_back(
          fmt::format("results may understate latency: loadcell itself used up to {:.0f}% CPU with {} worker "
                      "thread(s) (above {:.0f}%), so it may have been the bottleneck; add threads or cores, "
                      "or lower the load",
                      cpu.max, threads, limit));
    }
  }
  SeriesAggregate delayed = store.Select("delayed_iterations", {});
  SeriesAggregate lag = store.Select("iteration_start_lag", {});
  if (delayed.count > 0) {
    // quick -R: arrivals waited for a connection; their wait is in their lag and latency.
    SeriesAggregate reqs = store.Select("http_reqs", {});
    out.push_back(
        fmt::format("{} requests ({:.2f}%) started late because every connection was busy; their latency "
                    "counts from the intended send time (raise -c to offer the full rate)",
                    delayed.count,
                    reqs.count ? 100.0 * static_cast<double>(delayed.count) / static_cast<double>(reqs.count) : 0.0));
  } else if (lag.trend && !lag.trend->empty() && lag.trend->ValueAtPercentile(99) > kSendLagWarnUs) {
    out.push_back(
        fmt::format("results may understate latency: arrival-rate iterations started late (iteration_start_lag "
                    "p99 {:.2f} ms, above 1 ms): loadcell could not keep the schedule; the latency of late "
                    "iterations includes their lag, but the target saw a smoother load than asked for",
                    static_cast<double>(lag.trend->ValueAtPercentile(99)) / 1000.0));
  }
  SeriesAggregate dropped = store.Select("dropped_iterations", {});
  if (dropped.count > 0 && !overload_expected) {
    SeriesAggregate iters = store.Select("iterations", {});
    out.push_back(fmt::format(
        "results may understate latency: {} iterations were dropped ({:.2f}/s; {} ran) because "
        "no VU was free at their start time; raise max_vus, or the target is slower than the "
        "arrival rate allows",
        dropped.count, duration_s > 0 ? static_cast<double>(dropped.count) / duration_s : 0.0, iters.count));
  }
  return out;
}

}  // namespace loadcell
