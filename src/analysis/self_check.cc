#include "analysis/self_check.h"

#include <fmt/format.h>

namespace loadcell {

std::vector<std::string> SelfCheck(const RunResult& r) {
  std::vector<std::string> w;
  const Counters& c = r.totals.counters;
  if (r.open_model() && !r.totals.send_lag.empty()) {
    int64_t p99 = r.totals.send_lag.ValueAtPercentile(99);
    if (p99 > kSendLagWarnUs) {
      w.push_back(
          fmt::format("the generator could not keep its schedule: send lag p99 was {:.2f}ms (> {:.0f}ms); "
                      "latency is still measured from the intended send time, but the offered rate was lower",
                      static_cast<double>(p99) / 1000, kSendLagWarnUs / 1000.0));
    }
  }
  for (size_t i = 0; i < r.worker_cpu.size(); ++i) {
    if (r.worker_cpu[i] > kWorkerCpuWarn) {
      w.push_back(
          fmt::format("worker thread {} used {:.0f}% of a core: the generator itself may have been the "
                      "bottleneck and results may understate the target's capacity and latency",
                      i, r.worker_cpu[i] * 100));
    }
  }
  if (r.open_model() && c.late > 0) {
    w.push_back(
        fmt::format("{} requests ({:.2f}%) started late because all {} connections were busy; their latency "
                    "counts from the intended send time (raise -c to offer the full rate)",
                    c.late, c.requests ? 100.0 * static_cast<double>(c.late) / static_cast<double>(c.requests) : 0.0,
                    r.meta.connections));
  }
  int64_t connect = c.failures[static_cast<size_t>(FailureKind::kConnect)];
  if (c.responses == 0 && (connect > 0 || c.reconnect_failures > 0)) {
    w.push_back(fmt::format("target unreachable: no response received, {} connection attempts failed ({})",
                            connect + c.reconnect_failures, r.meta.url));
  } else if (c.requests > 0 && c.total_failures() * 10 > c.requests) {
    w.push_back(fmt::format("{:.1f}% of requests failed without a response",
                            100.0 * static_cast<double>(c.total_failures()) / static_cast<double>(c.requests)));
  }
  if (r.totals.duration.clamped() > 0) {
    w.push_back(fmt::format("{} latencies exceeded the histogram's range and were clamped to {}us",
                            r.totals.duration.clamped(), r.totals.duration.highest()));
  }
  return w;
}

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
  SeriesAggregate lag = store.Select("iteration_start_lag", {});
  if (lag.trend && !lag.trend->empty() && lag.trend->ValueAtPercentile(99) > kSendLagWarnUs) {
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
