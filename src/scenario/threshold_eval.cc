#include "scenario/threshold_eval.h"

namespace loadcell {

bool Aggregate(const SeriesAggregate& a, const ThresholdExpr& e, double duration_s, double* out) {
  using A = ThresholdExpr::Aggregate;
  if (a.count == 0 && a.kind != MetricKind::kGauge) return false;
  switch (e.aggregate) {
    case A::kPercentile:
    case A::kAvg:
    case A::kMed:
    case A::kMin:
    case A::kMax: {
      if (a.kind == MetricKind::kGauge) {
        *out = e.aggregate == A::kMin ? a.min : a.max;
        return a.count > 0;
      }
      if (!a.trend || a.trend->empty()) return false;
      const HdrHistogram& h = *a.trend;
      double us = 0;
      if (e.aggregate == A::kPercentile)
        us = static_cast<double>(h.ValueAtPercentile(e.percentile));
      else if (e.aggregate == A::kAvg)
        us = h.mean();
      else if (e.aggregate == A::kMed)
        us = static_cast<double>(h.ValueAtPercentile(50));
      else if (e.aggregate == A::kMin)
        us = static_cast<double>(h.min());
      else
        us = static_cast<double>(h.max());
      *out = us / 1000.0;  // trends are compared in ms
      return true;
    }
    case A::kRate:
      if (a.kind == MetricKind::kRate)
        *out = static_cast<double>(a.passes) / static_cast<double>(a.count);
      else
        *out = duration_s > 0 ? static_cast<double>(a.count) / duration_s : 0;
      return true;
    case A::kCount: *out = static_cast<double>(a.count); return true;
    case A::kValue: *out = a.value; return a.count > 0;
  }
  return false;
}

std::vector<ThresholdOutcome> EvaluateThresholds(const TestDefinition& def, const MetricStore& store,
                                                 double duration_s) {
  std::vector<ThresholdOutcome> out;
  for (const ThresholdDef& t : def.thresholds) {
    SeriesAggregate a = store.Select(t.selector.metric, t.selector.tags);
    for (const ThresholdExpr& e : t.exprs) {
      ThresholdOutcome o;
      o.key = t.key;
      o.expr = e.source;
      double v = 0;
      // Counters with no samples count zero (k6: dropped_iterations: count<10 passes with none).
      if (!Aggregate(a, e, duration_s, &v)) {
        // (An absent metric's aggregate says kCounter: the metric's own type decides.)
        if (t.counter &&
            (e.aggregate == ThresholdExpr::Aggregate::kCount || e.aggregate == ThresholdExpr::Aggregate::kRate)) {
          v = 0;
        } else {
          o.no_data = true;
          o.ok = !def.strict_thresholds;  // unjudged: a pass only when not strict
          out.push_back(o);
          continue;
        }
      }
      o.observed = v;
      o.ok = e.Holds(v);
      out.push_back(o);
    }
  }
  return out;
}

}  // namespace loadcell
