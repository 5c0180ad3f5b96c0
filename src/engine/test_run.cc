#include "engine/test_run.h"

#include <memory>
#include <thread>

#include "engine/start_gate.h"
#include "engine/vu_worker.h"

namespace loadcell {

TestResult RunTest(const TestPlan& plan, const std::atomic<bool>& interrupted) {
  StartGate gate(plan.threads);
  std::vector<std::unique_ptr<VuWorker>> workers;
  for (int i = 0; i < plan.threads; ++i) workers.push_back(std::make_unique<VuWorker>(plan, i, gate, interrupted));
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w] { w->Run(); });
  TestResult r;
  Nanos start = gate.OpenWhenReady([] { return MonotonicClock::ReadNow(); }, 5 * kMilli);
  r.start_wall = WallSeconds();
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
