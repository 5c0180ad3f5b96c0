#include "engine/test_run.h"

#include <memory>
#include <chrono>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "analysis/threshold_eval.h"

#include "engine/start_gate.h"
#include "engine/vu_worker.h"

namespace loadcell {

TestResult RunTest(const TestPlan& plan, const std::atomic<bool>& interrupted, const std::atomic<int>* signals) {
  StartGate gate(plan.threads);
  std::atomic<bool> stop{false}, force{false};
  std::atomic<int> finished{0};
  std::unique_ptr<LiveAggregates> live;
  if (!plan.abort_thresholds.empty()) live = std::make_unique<LiveAggregates>(plan.threads, plan.abort_thresholds.size());
  std::vector<std::unique_ptr<VuWorker>> workers;
  for (int i = 0; i < plan.threads; ++i) {
    workers.push_back(std::make_unique<VuWorker>(plan, i, gate, stop, force, live.get()));
  }
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&w, &finished] {
      w->Run();
      finished.fetch_add(1);
    });
  }
  TestResult r;
  Nanos start = gate.OpenWhenReady([] { return MonotonicClock::ReadNow(); }, 5 * kMilli);
  r.start_wall = WallSeconds();
  // The coordinator watches signals and the abort_on_fail thresholds; it never touches the
  // request path.
  Nanos next_eval = start + kSecond;
  Nanos next_vus = start + kSecond;
  while (finished.load() < plan.threads) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (interrupted.load() && !stop.exchange(true) && r.aborted_by.empty()) {
      std::fprintf(stderr, "loadcell: interrupted: no new iterations; running ones get their graceful_stop "
                           "(interrupt again to stop at once)\n");
    }
    if (signals != nullptr && signals->load() >= 2 && !force.exchange(true)) {
      std::fprintf(stderr, "loadcell: stopping now\n");
    }
    Nanos now = MonotonicClock::ReadNow();
    if (now >= next_vus) {
      // k6's `vus` gauge: VUs inside an iteration, sampled every second across workers.
      next_vus += kSecond;
      int64_t active = 0;
      for (auto& w : workers) active += w->active_vus();
      r.store.Gauge("vus", {}, static_cast<double>(active));
    }
    if (live && now >= next_eval && r.aborted_by.empty()) {
      next_eval += kSecond;
      double elapsed = static_cast<double>(now - start) / 1e9;
      std::vector<SeriesAggregate> merged = live->Merged();
      for (size_t i = 0; i < plan.abort_thresholds.size() && r.aborted_by.empty(); ++i) {
        for (const ThresholdExpr& e : plan.abort_thresholds[i]->exprs) {
          if (!e.abort_on_fail || now - start < e.delay_abort_eval) continue;
          double v = 0;
          if (Aggregate(merged[i], e, elapsed, &v) && !e.Holds(v)) {
            r.aborted_by = fmt::format("{}: {} failed after {:.0f}s (observed {:g})", plan.abort_thresholds[i]->key,
                                       e.source, elapsed, v);
            stop = true;
            break;
          }
        }
      }
    }
  }
  for (auto& t : threads) t.join();
  r.end_wall = WallSeconds();
  r.duration_s = static_cast<double>(MonotonicClock::ReadNow() - start) / 1e9;
  for (auto& w : workers) {
    r.store.Merge(w->store());
    r.vus_max += w->stats().vus_max;
    r.interrupted_iterations += w->stats().interrupted;
    r.render_failures += w->stats().render_failures;
    for (const std::string& m : w->stats().messages) r.messages.push_back(m);
  }
  r.interrupted = interrupted.load();
  return r;
}

}  // namespace loadcell
