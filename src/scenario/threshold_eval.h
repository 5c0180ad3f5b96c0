// Evaluates a test's thresholds against the merged metrics of a run.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "metrics/metric_store.h"
#include "scenario/definition.h"

namespace loadcell {

// A threshold expression as declared: what results files record of it, so that `merge` and
// a stream cut short can judge it again.
struct ThresholdSpec {
  std::string key;   // "http_req_duration{name:login}"
  std::string expr;  // "p(99)<100"
  Severity severity = Severity::kCritical;
  Nanos during_from = 0, during_to = kOpenEnd;  // the window judged (the whole run by default)

  bool windowed() const { return during_from != 0 || during_to != kOpenEnd; }
};
ThresholdSpec SpecOf(const ThresholdDef& t, const ThresholdExpr& e);
// The expression as people read it: "p(95)<200", with " during 2m-10m" (or " from 2m")
// when windowed and " [warning]"/" [info]" when not critical.
std::string DescribeExpr(const ThresholdSpec& s);
// The expression back from a spec (its text parsed, its severity and window set).
Result<ThresholdExpr> ExprOf(const ThresholdSpec& s);

struct ThresholdOutcome : ThresholdSpec {
  bool ok = true;
  bool no_data = false;  // no sample matched: shown as "? no data", failed only when strict
  double observed = 0;   // in the threshold's unit (ms for trends)

  // Fails the run: a critical threshold that does not hold.
  bool fails_run() const { return !ok && severity == Severity::kCritical; }
};

// The value of expression `expr` of threshold `threshold` judged from the run's seconds (a
// window, a growth: engine/threshold_watch.h); false when there is nothing to judge.
using ThresholdJudge = std::function<bool(size_t threshold, size_t expr, double* value)>;

// The value an aggregation takes on a (sub-)metric; `duration_s` turns counts into rates.
bool Aggregate(const SeriesAggregate& a, const ThresholdExpr& e, double duration_s, double* out);

// Expressions judged per second (ThresholdExpr::per_second) ask `per_second`; without
// one they have "no data".
std::vector<ThresholdOutcome> EvaluateThresholds(const TestDefinition& def, const MetricStore& store, double duration_s,
                                                 const ThresholdJudge& per_second = nullptr);
// An expression's outcome for `observed` (or no data when `judged` is false).
ThresholdOutcome JudgeExpr(const TestDefinition& def, const ThresholdDef& t, const ThresholdExpr& e, bool judged,
                           double observed);

}  // namespace loadcell
