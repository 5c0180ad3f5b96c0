#include "engine/run_coordinator.h"

#include <algorithm>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "metrics/gauge_key.h"
#include "scenario/threshold_eval.h"

#include "common/redact.h"
#include "engine/start_gate.h"
#include "engine/vu_worker.h"
#include "net/local_limits.h"

namespace loadcell {
namespace {

// Merges the workers' pieces of each second and emits the second once every worker that is
// still running delivered it.
class SeriesCollector {
 public:
  SeriesCollector(int workers, RunObserver* observer)
      : delivered_(static_cast<size_t>(workers), 0), done_(static_cast<size_t>(workers), false), observer_(observer) {}

  // Emits the complete seconds; with `duration_s` (the run is over) emits all of them.
  // `sampled`: how many seconds the VUs and resources were sampled for: second t waits for
  // its own sample (a worker may hand second t over a moment before the coordinator samples
  // it; the point then carried the previous second's sample, and a soak slope came out a
  // second short).
  void Drain(IntervalSink& sink, double vus, const std::map<std::string, double>& vus_by_scenario,
             const std::map<std::string, double>& resources, int64_t sampled, std::vector<SeriesPoint>* out,
             double duration_s = -1) {
    for (Interval& iv : sink.Take()) {
      auto [it, inserted] = pending_.try_emplace(iv.second);
      if (inserted) {
        it->second = std::move(iv.store);
      } else {
        it->second.Merge(iv.store);
      }
      size_t w = static_cast<size_t>(iv.worker);
      delivered_[w] = std::max(delivered_[w], iv.second);
      done_[w] = done_[w] || iv.last;
    }
    while (!pending_.empty()) {
      int64_t t = pending_.begin()->first;
      bool complete = duration_s >= 0;
      if (!complete) {
        // A worker that finished delivers nothing more (one with no VU of its own finishes
        // at once: it must not hold the others' seconds back until the end). When every
        // worker finished, the rest waits for the end, which knows how long the last,
        // partial second was.
        complete = !std::all_of(done_.begin(), done_.end(), [](bool d) { return d; });
        for (size_t w = 0; w < delivered_.size(); ++w) complete = complete && (done_[w] || delivered_[w] >= t);
      }
      if (duration_s < 0 && t > sampled) complete = false;
      if (!complete) break;
      double dur = 1;
      if (duration_s >= 0 && pending_.size() == 1) dur = std::max(1e-3, duration_s - static_cast<double>(t - 1));
      SeriesPoint p = MakePoint(t, dur, vus, pending_.begin()->second);
      p.resources = resources;
      p.vus_by_scenario = vus_by_scenario;
      // Streams and live views get every second; the in-memory series is bounded.
      if (observer_ != nullptr) observer_->OnSecond(p, pending_.begin()->second);
      AppendBounded(out, std::move(p), cap_);
      pending_.erase(pending_.begin());
    }
  }

 private:
  std::map<int64_t, MetricStore> pending_;
  const size_t cap_ = SeriesCap();
  std::vector<int64_t> delivered_;
  std::vector<bool> done_;
  RunObserver* observer_;
};

}  // namespace

TestResult RunTest(const TestPlan& plan, const std::atomic<bool>& interrupted, const std::atomic<int>* signals,
                   RunObserver* observer, const ResourceSampler& sampler) {
  ResetLocalLimits();  // each capacity step reports its own
  StartGate gate(plan.threads);
  std::atomic<bool> stop{false}, force{false};
  std::atomic<int> finished{0};
  std::unique_ptr<LiveAggregates> live;
  if (!plan.abort_thresholds.empty())
    live = std::make_unique<LiveAggregates>(plan.threads, plan.abort_thresholds.size());
  IntervalSink intervals;
  SeriesCollector collector(plan.threads, observer);
  double vus_now = 0;
  std::map<std::string, double> resources;
  std::map<std::string, double> vus_by_scenario;
  if (sampler) sampler(static_cast<double>(MonotonicClock::ReadNow()) / 1e9);  // the baseline for rates
  std::vector<std::unique_ptr<VuWorker>> workers;
  for (int i = 0; i < plan.threads; ++i) {
    workers.push_back(std::make_unique<VuWorker>(plan, i, gate, stop, force, live.get(), &intervals));
  }
  std::vector<std::thread> threads;
  std::atomic<int> out_of_memory{-1};  // the first worker whose allocation failed
  for (size_t i = 0; i < workers.size(); ++i) {
    threads.emplace_back([&w = workers[i], &finished, &out_of_memory, &stop, &force, i] {
      try {
        w->Run();
      } catch (const std::bad_alloc&) {
        // Not an abort: the run stops, and what every worker measured is still written.
        int none = -1;
        out_of_memory.compare_exchange_strong(none, static_cast<int>(i));
        stop = true;
        force = true;
      }
      finished.fetch_add(1);
    });
  }
  TestResult r;
  Nanos start = gate.OpenWhenReady([] { return MonotonicClock::ReadNow(); }, 5 * kMilli);
  r.start_wall = WallSeconds();
  if (observer != nullptr) observer->OnStart(r.start_wall);
  // The coordinator watches signals and the abort_on_fail thresholds; it never touches the
  // request path.
  Nanos next_eval = start + kSecond;
  Nanos next_vus = start + kSecond;
  int64_t sampled = 0;  // seconds whose VUs and resources were sampled
  while (finished.load() < plan.threads) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (interrupted.load() && !stop.exchange(true) && r.aborted_by.empty()) {
      std::fprintf(stderr,
                   "loadcell: interrupted: no new iterations; running ones get their graceful_stop "
                   "(interrupt again to stop at once)\n");
    }
    if (signals != nullptr && signals->load() >= 2 && !force.exchange(true)) {
      std::fprintf(stderr, "loadcell: stopping now\n");
    }
    Nanos now = MonotonicClock::ReadNow();
    if (now >= next_vus) {
      // k6's `vus` gauge: VUs inside an iteration, sampled every second across workers.
      next_vus += kSecond;
      ++sampled;
      int64_t active = 0;
      for (auto& w : workers) active += w->active_vus();
      r.store.Gauge("vus", {}, static_cast<double>(active));
      vus_now = static_cast<double>(active);
      for (size_t s = 0; s < plan.def.scenarios.size(); ++s) {
        int64_t n = 0;
        for (auto& w : workers) n += w->active_vus(s);
        vus_by_scenario[plan.def.scenarios[s].name] = static_cast<double>(n);
      }
      if (sampler) {
        resources = sampler(static_cast<double>(now) / 1e9);
        for (const auto& [key, v] : resources) {
          auto [metric, tags] = SplitGaugeKey(key);  // a monitor source's labels are the gauge's tags
          r.store.Gauge(metric, tags, v);
        }
      }
    }
    collector.Drain(intervals, vus_now, vus_by_scenario, resources, sampled, &r.series);
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
  collector.Drain(intervals, vus_now, vus_by_scenario, resources, sampled, &r.series, r.duration_s);
  const Redactor redactor(plan.def.secrets);
  for (auto& w : workers) {
    r.store.Merge(w->store());
    r.vus_max += w->stats().vus_max;
    r.interrupted_iterations += w->stats().interrupted;
    r.render_failures += w->stats().render_failures;
    r.completed_iterations += w->stats().completed;
    if (plan.keep_vars && !w->stats().vars.vars.empty()) r.vars = w->stats().vars;
    // Workers note the same things (each saw the first failure of its own VUs): once each.
    for (const std::string& raw : w->stats().messages) {
      std::string m = redactor.Apply(raw);  // a ws URL or a server's answer may quote a secret
      if (std::find(r.messages.begin(), r.messages.end(), m) == r.messages.end()) r.messages.push_back(std::move(m));
    }
  }
  for (std::string& m : LocalLimitMessages(ReadLocalLimits())) r.messages.push_back(std::move(m));
  if (out_of_memory.load() >= 0) {
    r.failure = fmt::format(
        "out of memory on worker {}: the run was stopped there; the results hold what was "
        "measured until then",
        out_of_memory.load());
    r.messages.push_back(r.failure);
  }
  r.interrupted = interrupted.load();
  return r;
}

}  // namespace loadcell
