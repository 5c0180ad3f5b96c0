#include "engine/threshold_watch.h"

#include "metrics/catalog.h"
#include "metrics/gauge_key.h"

namespace loadcell {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

}  // namespace

bool GrowthIn(const ThresholdExpr& e, double n, double st, double sv, double stt, double stv, double first_t,
              double* out) {
  const double den = n * stt - st * st;
  if (n < 2 || den <= 0) return false;
  const double slope = (n * stv - st * sv) / den;  // per second
  const double level = (sv - slope * st) / n + slope * first_t;
  using G = ThresholdExpr::GrowthUnit;
  switch (e.growth_unit) {
    case G::kMibPerHour: *out = slope * 3600 / kMiB; return true;
    case G::kPerHour: *out = slope * 3600; return true;
    case G::kPercentPerHour:
    case G::kPercentPerDay:
      if (level <= 0) return false;
      *out = 100 * slope * 3600 / level * (e.growth_unit == G::kPercentPerDay ? 24 : 1);
      return true;
  }
  return false;
}

ThresholdWatch::ThresholdWatch(const TestDefinition& def, bool every, double recent_s)
    : def_(def), recent_s_(recent_s) {
  index_.resize(def.thresholds.size());
  for (size_t i = 0; i < def.thresholds.size(); ++i) {
    const ThresholdDef& t = def.thresholds[i];
    const MetricInfo* info = FindMetric(t.selector.metric);
    auto own = def.metrics.find(t.selector.metric);
    if (info == nullptr && own != def.metrics.end()) info = &CustomMetricInfo(own->second);
    const bool gauge =
        t.selector.metric.starts_with(kMonitorGaugePrefix) || (info != nullptr && info->type == MetricType::kGauge);
    index_[i].assign(t.exprs.size(), -1);
    for (size_t j = 0; j < t.exprs.size(); ++j) {
      if (!every && !t.exprs[j].per_second()) continue;
      index_[i][j] = static_cast<int>(watched_.size());
      Watched w;
      w.threshold = i;
      w.expr = j;
      w.gauge = gauge;
      w.aggregate.kind = gauge ? MetricKind::kGauge : MetricKind::kCounter;
      watched_.push_back(std::move(w));
    }
  }
}

SeriesAggregate ThresholdWatch::SecondOf(Watched& w, const SeriesPoint& p, const MetricStore& interval) {
  const MetricSelector& sel = def_.thresholds[w.threshold].selector;
  if (!w.gauge) return interval.Select(sel.metric, sel.tags);
  // The gauges sampled in this second: VUs from the point, the rest from its resources.
  std::vector<double> values;
  if (sel.metric == "vus") {
    if (sel.tags.empty()) {
      values.push_back(p.vus);
    } else if (sel.tags.size() == 1 && sel.tags.count("scenario") != 0) {
      auto it = p.vus_by_scenario.find(sel.tags.at("scenario"));
      if (it != p.vus_by_scenario.end()) values.push_back(it->second);
    }
  } else {
    values = GaugeValues(p.resources, sel.metric, sel.tags);
  }
  SeriesAggregate second;
  second.kind = MetricKind::kGauge;
  if (values.empty()) return second;
  double sum = 0;
  for (double v : values) {
    SeriesAggregate one;
    one.kind = MetricKind::kGauge;
    one.count = 1;
    one.value = one.min = one.max = v;
    second.Add(one);
    sum += v;
  }
  // Growth follows the sum of the matching series (all states' connections, all processes).
  const double t = static_cast<double>(p.t) - 0.5 * p.dur;
  if (w.n == 0) w.first_t = t;
  w.n += 1;
  w.st += t;
  w.sv += sum;
  w.stt += t * t;
  w.stv += t * sum;
  return second;
}

void ThresholdWatch::OnSecond(const SeriesPoint& p, const MetricStore& interval) {
  const double begin_s = static_cast<double>(p.t - 1);
  elapsed_s_ = begin_s + p.dur;
  for (Watched& w : watched_) {
    const ThresholdExpr& e = def_.thresholds[w.threshold].exprs[w.expr];
    // A second counts in a window when it starts inside it.
    w.open = begin_s * 1e9 >= static_cast<double>(e.during_from) &&
             (e.during_to == kOpenEnd || begin_s * 1e9 < static_cast<double>(e.during_to));
    if (!w.open) continue;
    w.seconds += p.dur;
    SeriesAggregate second = SecondOf(w, p, interval);
    if (second.count > 0) w.aggregate.kind = second.kind;
    w.aggregate.Add(second);
    if (recent_s_ > 0) {
      w.recent.emplace_back(std::move(second), p.dur);
      double kept = 0;
      for (const auto& r : w.recent) kept += r.second;
      while (w.recent.size() > 1 && kept - w.recent.front().second >= recent_s_ - 1e-9) {
        kept -= w.recent.front().second;
        w.recent.pop_front();
      }
    }
  }
}

bool ThresholdWatch::Observed(size_t threshold, size_t expr, double* value) const {
  if (threshold >= index_.size() || expr >= index_[threshold].size() || index_[threshold][expr] < 0) return false;
  const Watched& w = watched_[static_cast<size_t>(index_[threshold][expr])];
  const ThresholdExpr& e = def_.thresholds[threshold].exprs[expr];
  if (w.seconds <= 0) return false;
  if (e.aggregate == ThresholdExpr::Aggregate::kGrowth)
    return GrowthIn(e, w.n, w.st, w.sv, w.stt, w.stv, w.first_t, value);
  if (Aggregate(w.aggregate, e, w.seconds, value)) return true;
  // A counter without samples in seconds it saw counts zero, as over the whole run.
  using A = ThresholdExpr::Aggregate;
  if (def_.thresholds[threshold].counter && (e.aggregate == A::kCount || e.aggregate == A::kRate)) {
    *value = 0;
    return true;
  }
  return false;
}

std::vector<ThresholdOutcome> ThresholdWatch::Recent() const {
  std::vector<ThresholdOutcome> out;
  using A = ThresholdExpr::Aggregate;
  for (size_t i = 0; i < def_.thresholds.size(); ++i) {
    const ThresholdDef& t = def_.thresholds[i];
    for (size_t j = 0; j < t.exprs.size(); ++j) {
      const ThresholdExpr& e = t.exprs[j];
      double v = 0;
      bool judged = false;
      const int at = index_[i][j];
      if (at >= 0 && watched_[static_cast<size_t>(at)].open) {
        const Watched& w = watched_[static_cast<size_t>(at)];
        if (e.aggregate == A::kGrowth) {
          judged = Observed(i, j, &v);
        } else {
          SeriesAggregate merged;
          merged.kind = w.aggregate.kind;
          double seconds = 0;
          for (const auto& [a, dur] : w.recent) {
            merged.Add(a);
            seconds += dur;
          }
          judged = Aggregate(merged, e, seconds, &v);
          if (!judged && t.counter && (e.aggregate == A::kCount || e.aggregate == A::kRate) && seconds > 0) {
            judged = true;
            v = 0;
          }
        }
      }
      out.push_back(JudgeExpr(def_, t, e, judged, v));
    }
  }
  return out;
}

ThresholdJudge ThresholdWatch::Judge() const {
  return [this](size_t threshold, size_t expr, double* value) { return Observed(threshold, expr, value); };
}

std::vector<ThresholdOutcome> ThresholdWatch::Current() const {
  std::vector<ThresholdOutcome> out;
  for (size_t i = 0; i < def_.thresholds.size(); ++i) {
    const ThresholdDef& t = def_.thresholds[i];
    for (size_t j = 0; j < t.exprs.size(); ++j) {
      double v = 0;
      bool judged = Observed(i, j, &v);
      out.push_back(JudgeExpr(def_, t, t.exprs[j], judged, v));
    }
  }
  return out;
}

}  // namespace loadcell
