#include "engine/capacity_run.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "engine/run_plan.h"
#include "load/capacity_search.h"

namespace loadcell {
namespace {

// Forwards a step's seconds to the run's observers with the seconds of the earlier steps
// added, and collects the seconds after the settle into the step's measured window.
class StepObserver : public RunObserver {
 public:
  StepObserver(RunObserver* outer, int64_t offset, int64_t settle_s, MetricStore* window)
      : outer_(outer), offset_(offset), settle_s_(settle_s), window_(window) {}
  void OnStart(double start_wall) override {
    if (outer_ != nullptr && offset_ == 0) outer_->OnStart(start_wall);
  }
  void OnSecond(const SeriesPoint& p, const MetricStore& interval) override {
    if (p.t > settle_s_) window_->Merge(interval);
    if (outer_ == nullptr) return;
    SeriesPoint shifted = p;
    shifted.t += offset_;
    outer_->OnSecond(shifted, interval);
  }

 private:
  RunObserver* outer_;
  int64_t offset_, settle_s_;
  MetricStore* window_;
};

}  // namespace

Result<CapacityRun> RunCapacitySearch(const TestDefinition& def, const CapacityRunInputs& in,
                                      const std::atomic<bool>& interrupted, const std::atomic<int>* signals) {
  if (def.scenarios.size() != 1) {
    return Error::InvalidArgument("executor capacity-search must be the test's only scenario");
  }
  const ScenarioDef& sc = def.scenarios[0];
  const double per_second = static_cast<double>(kSecond) / static_cast<double>(sc.time_unit);
  const int64_t step_s = std::max<int64_t>(1, sc.step_duration / kSecond);
  const int64_t settle_s = std::max<int64_t>(1, static_cast<int64_t>(std::lround(0.2 * static_cast<double>(step_s))));
  CapacitySearch search(sc.start_rate, sc.max_rate, 0.02, 30, sc.min_rate);
  CapacityRun out;
  int64_t offset = 0;
  int step = 0;
  std::vector<ThresholdOutcome> best_outcomes, last_outcomes;
  while (!search.done() && !interrupted.load()) {
    double rate = search.next();
    TestDefinition d = def;
    ScenarioDef& s = d.scenarios[0];
    s.executor = ExecutorKind::kConstantArrivalRate;
    s.rate = rate;
    s.duration = (settle_s + step_s) * kSecond;
    auto plan = PrepareTest(std::move(d), {}, in.threads, in.seed + static_cast<uint64_t>(step), in.insecure);
    if (!plan.ok()) return plan.error();
    MetricStore window;
    StepObserver observer(in.observer, offset, settle_s, &window);
    std::fprintf(stderr, "loadcell: capacity step %d: %g/%s for %llds (+%llds settle)\n", step + 1, rate,
                 sc.time_unit == kSecond ? "s" : "time unit", static_cast<long long>(step_s),
                 static_cast<long long>(settle_s));
    TestResult r = RunTest(**plan, interrupted, signals, &observer, in.sampler);
    // The step's verdict: the thresholds on its measured window.
    // A threshold without samples in the window cannot pass a step: a step that sent
    // nothing (a low rate, a target that refuses everything) is "no data", never a pass.
    TestDefinition strict = def;
    strict.strict_thresholds = true;
    std::vector<ThresholdOutcome> outcomes = EvaluateThresholds(strict, window, static_cast<double>(step_s));
    CapacityStep st;
    st.rate = rate * per_second;
    st.passed = std::all_of(outcomes.begin(), outcomes.end(), [](const ThresholdOutcome& o) { return o.ok; });
    for (const ThresholdOutcome& o : outcomes) {
      if (o.ok) continue;
      st.failed +=
          o.no_data ? fmt::format("{}{}: {} (no data)", st.failed.empty() ? "" : "; ", o.key, o.expr)
                    : fmt::format("{}{}: {} (observed {:g})", st.failed.empty() ? "" : "; ", o.key, o.expr, o.observed);
    }
    SeriesAggregate reqs = window.Select("http_reqs", {});
    SeriesAggregate failed = window.Select("http_req_failed", {});
    SeriesAggregate dur = window.Select("http_req_duration", {});
    SeriesAggregate dropped = window.Select("dropped_iterations", {});
    SeriesAggregate iters = window.Select("iterations", {});
    st.reqs = reqs.count;
    st.error_rate = failed.count ? static_cast<double>(failed.passes) / static_cast<double>(failed.count) : 0;
    st.p99_ms = dur.trend && !dur.trend->empty() ? static_cast<double>(dur.trend->ValueAtPercentile(99)) / 1000.0 : 0;
    double scheduled = static_cast<double>(iters.count + dropped.count);
    SeriesAggregate cpu = r.store.Select("generator_cpu", {});
    st.generator_limited = (scheduled > 0 && static_cast<double>(dropped.count) > 0.01 * scheduled && st.passed) ||
                           (r.store.Has("generator_cpu") && cpu.max > 90.0 * in.threads);
    if (st.passed) best_outcomes = outcomes;
    last_outcomes = outcomes;
    out.capacity.steps.push_back(st);
    if (st.passed && st.rate >= out.capacity.max_rate) {
      out.capacity.max_rate = st.rate;
      out.capacity.p99_ms = st.p99_ms;
      out.capacity.error_rate = st.error_rate;
    }
    search.Report(st.passed, st.generator_limited);
    // Add the step to the whole run.
    TestResult& t = out.result;
    if (step == 0) t.start_wall = r.start_wall;
    t.end_wall = r.end_wall;
    t.duration_s += r.duration_s;
    t.store.Merge(r.store);
    for (SeriesPoint& p : r.series) {
      p.t += offset;
      t.series.push_back(std::move(p));
    }
    t.vus_max = std::max(t.vus_max, r.vus_max);
    t.interrupted_iterations += r.interrupted_iterations;
    t.render_failures += r.render_failures;
    for (const std::string& m : r.messages) {
      if (std::find(t.messages.begin(), t.messages.end(), m) == t.messages.end()) t.messages.push_back(m);
    }
    t.interrupted = t.interrupted || r.interrupted;
    if (!r.aborted_by.empty()) t.aborted_by = r.aborted_by;
    offset += static_cast<int64_t>(r.series.size());  // steps are far shorter than the series cap
    ++step;
  }
  out.capacity.found = search.found();
  out.capacity.why = interrupted.load() ? "interrupted" : search.why();
  if (!search.found() && !out.capacity.steps.empty() && !interrupted.load()) {
    out.capacity.why += ": " + out.capacity.steps.back().failed;
  }
  out.outcomes = search.found() ? best_outcomes : last_outcomes;
  return out;
}

}  // namespace loadcell
