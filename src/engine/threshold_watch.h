// The thresholds judged second by second as the run goes: what a whole-run total cannot
// judge (a `during` window, a gauge's growth) and, for live alerts, every threshold's state
// at each second. An observer of the run's complete seconds (the coordinator's thread), so
// it costs the workers nothing; `loadcell merge` replays the parts' seconds through it.
#pragma once

#include <cstddef>
#include <deque>
#include <vector>

#include "engine/run_coordinator.h"
#include "scenario/definition.h"
#include "scenario/threshold_eval.h"

namespace loadcell {

class ThresholdWatch : public RunObserver {
 public:
  // `every`: watch every expression (live alerts); otherwise only those judged per second.
  // `recent_s` > 0: also keep each expression's last `recent_s` seconds, for Recent().
  // `def` must outlive the watch.
  ThresholdWatch(const TestDefinition& def, bool every, double recent_s = 0);

  void OnSecond(const SeriesPoint& point, const MetricStore& interval) override;

  // The value expression `expr` of threshold `threshold` has on what the watch saw (its
  // window's seconds, or all of them); false when there is nothing to judge yet.
  bool Observed(size_t threshold, size_t expr, double* value) const;
  // As a ThresholdJudge for EvaluateThresholds.
  ThresholdJudge Judge() const;
  // Every watched expression's outcome now, in the order of EvaluateThresholds; an
  // expression not watched, or whose window has not begun, is "no data".
  std::vector<ThresholdOutcome> Current() const;
  // Every expression judged on its last `recent_s` seconds alone (growth: on all of them):
  // what a live alert follows, so that it clears when the crossing is over. An expression
  // whose window is not open at the latest second is "no data".
  std::vector<ThresholdOutcome> Recent() const;
  // Seconds of the run seen so far.
  double elapsed_s() const { return elapsed_s_; }

 private:
  struct Watched {
    size_t threshold = 0, expr = 0;
    bool gauge = false;
    SeriesAggregate aggregate;
    double seconds = 0;  // covered by what was added (rates)
    // Least squares over (second, value) for growth: sums of t, v, t², t·v.
    double n = 0, st = 0, sv = 0, stt = 0, stv = 0, first_t = 0;
    std::deque<std::pair<SeriesAggregate, double>> recent;  // the last seconds: aggregate, duration
    bool open = false;                                      // the latest second was in its window
  };
  // The second's aggregate for `w` (gauges: the samples of the point); adds growth's sums.
  SeriesAggregate SecondOf(Watched& w, const SeriesPoint& p, const MetricStore& interval);

  const TestDefinition& def_;
  std::vector<Watched> watched_;
  std::vector<std::vector<int>> index_;  // [threshold][expr] -> into watched_, or -1
  double recent_s_ = 0;
  double elapsed_s_ = 0;
};

// The slope of a least-squares fit in the growth unit of `e` (per second → per hour, % of the
// fitted level at `first_t`); false with fewer than two points or a % of a level ≤ 0.
bool GrowthIn(const ThresholdExpr& e, double n, double st, double sv, double stt, double stv, double first_t,
              double* out);

}  // namespace loadcell
