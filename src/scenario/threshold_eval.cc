#include "scenario/threshold_eval.h"

#include <fmt/format.h>

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
    case A::kGrowth: return false;  // judged from the seconds (ThresholdJudge)
  }
  return false;
}

ThresholdSpec SpecOf(const ThresholdDef& t, const ThresholdExpr& e) {
  ThresholdSpec s;
  s.key = t.key;
  s.expr = e.source;
  s.severity = e.severity;
  s.during_from = e.during_from;
  s.during_to = e.during_to;
  return s;
}

std::string DescribeExpr(const ThresholdSpec& s) {
  std::string out = s.expr;
  if (s.windowed()) {
    out += s.during_to == kOpenEnd
               ? fmt::format(" from {}", FormatInstant(s.during_from))
               : fmt::format(" during {}-{}", FormatInstant(s.during_from), FormatInstant(s.during_to));
  }
  if (s.severity != Severity::kCritical) out += fmt::format(" [{}]", SeverityName(s.severity));
  return out;
}

Result<ThresholdExpr> ExprOf(const ThresholdSpec& s) {
  auto parsed = ParseThresholdExpr(s.expr);
  if (!parsed.ok()) return parsed.error();
  ThresholdExpr e = std::move(parsed).value();
  e.severity = s.severity;
  e.during_from = s.during_from;
  e.during_to = s.during_to;
  return e;
}

ThresholdOutcome JudgeExpr(const TestDefinition& def, const ThresholdDef& t, const ThresholdExpr& e, bool judged,
                           double observed) {
  ThresholdOutcome o;
  static_cast<ThresholdSpec&>(o) = SpecOf(t, e);
  // Counters with no samples count zero (k6: dropped_iterations: count<10 passes with none).
  if (!judged && t.counter && !e.per_second() &&
      (e.aggregate == ThresholdExpr::Aggregate::kCount || e.aggregate == ThresholdExpr::Aggregate::kRate)) {
    judged = true;
    observed = 0;
  }
  if (!judged) {
    o.no_data = true;
    o.ok = !def.strict_thresholds;  // unjudged: a pass only when not strict
    return o;
  }
  o.observed = observed;
  o.ok = e.Holds(observed);
  return o;
}

std::vector<ThresholdOutcome> EvaluateThresholds(const TestDefinition& def, const MetricStore& store, double duration_s,
                                                 const ThresholdJudge& per_second) {
  std::vector<ThresholdOutcome> out;
  for (size_t i = 0; i < def.thresholds.size(); ++i) {
    const ThresholdDef& t = def.thresholds[i];
    SeriesAggregate a = store.Select(t.selector.metric, t.selector.tags);
    for (size_t j = 0; j < t.exprs.size(); ++j) {
      const ThresholdExpr& e = t.exprs[j];
      double v = 0;
      bool judged = e.per_second() ? per_second && per_second(i, j, &v) : Aggregate(a, e, duration_s, &v);
      out.push_back(JudgeExpr(def, t, e, judged, v));
    }
  }
  return out;
}

}  // namespace loadcell
