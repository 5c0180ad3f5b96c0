#include "analysis/load_changes.h"

#include <algorithm>
#include <cmath>

#include "analysis/fault_report.h"
#include "metrics/gauge_key.h"
#include "scenario/threshold.h"

namespace loadcell {
namespace {

constexpr double kGaugeBaselineS = 5;

double Seconds(Nanos n) { return static_cast<double>(n) / 1e9; }

struct Piece {
  double at = 0, end = 0, from = 0, to = 0;
};

// The sum of the gauges matching `sel` in one second; NaN when none was sampled.
double GaugeIn(const SeriesPoint& p, const MetricSelector& sel) {
  if (sel.metric == "vus" && sel.tags.empty()) return p.vus;
  std::vector<double> values = GaugeValues(p.resources, sel.metric, sel.tags);
  double sum = 0;
  for (double v : values) sum += v;
  return values.empty() ? std::nan("") : sum;
}

GaugeReaction React(const std::string& gauge, const LoadChangeReport& c, const std::vector<SeriesPoint>& series) {
  GaugeReaction r;
  r.gauge = gauge;
  auto sel = ParseMetricSelector(gauge);
  if (!sel.ok()) return r;
  std::vector<double> before;
  for (const SeriesPoint& p : series) {
    const double start = static_cast<double>(p.t) - p.dur;
    if (start >= c.at_s - kGaugeBaselineS - 1e-9 && static_cast<double>(p.t) <= c.at_s + 1e-9) {
      double v = GaugeIn(p, *sel);
      if (!std::isnan(v)) before.push_back(v);
    }
  }
  if (before.empty()) return r;
  std::vector<double> sorted = before;
  std::sort(sorted.begin(), sorted.end());
  const double level = sorted[sorted.size() / 2];
  double mean = 0, var = 0;
  for (double v : before) mean += v / static_cast<double>(before.size());
  for (double v : before) var += (v - mean) * (v - mean) / static_cast<double>(before.size());
  const bool whole = std::all_of(before.begin(), before.end(), [](double v) { return v == std::floor(v); });
  double noise = std::max(0.1 * std::fabs(level), 3 * std::sqrt(var));
  if (whole) noise = std::max(noise, 0.5);  // a whole-valued gauge (replicas) reacts by 1
  r.before = level;
  for (const SeriesPoint& p : series) {
    const double start = static_cast<double>(p.t) - p.dur;
    if (start < c.at_s - 1e-9) continue;
    double v = GaugeIn(p, *sel);
    if (!std::isnan(v) && std::fabs(v - level) > noise) {
      r.reaction_s = start - c.at_s;
      r.after = v;
      break;
    }
  }
  return r;
}

}  // namespace

std::vector<LoadChangeReport> LoadChangesOf(const TestDefinition& def) {
  std::vector<LoadChangeReport> out;
  for (const ScenarioDef& sc : def.scenarios) {
    const bool vus = sc.executor == ExecutorKind::kRampingVus;
    if (!vus && sc.executor != ExecutorKind::kRampingArrivalRate) continue;
    // The stages as pieces of changing level (holds left out).
    std::vector<Piece> pieces;
    double level = vus ? static_cast<double>(sc.start_vus) : sc.start_rate;
    double t = Seconds(sc.start_time);
    for (const Stage& st : sc.stages) {
      const double end = t + Seconds(st.duration);
      if (st.target != level) pieces.push_back({t, end, level, st.target});
      level = st.target;
      t = end;
    }
    for (size_t i = 0; i < pieces.size();) {
      LoadChangeReport c;
      c.scenario = sc.name;
      c.at_s = pieces[i].at;
      c.from = pieces[i].from;
      if (pieces[i].to > pieces[i].from) {
        // Rises while the level goes up; then a fall back to the start makes it a spike.
        size_t j = i;
        double peak = pieces[i].to;
        while (j + 1 < pieces.size() && pieces[j + 1].to > pieces[j + 1].from) peak = pieces[++j].to;
        size_t k = j + 1;
        while (k < pieces.size() && pieces[k].to < pieces[k].from && pieces[k].to > c.from) ++k;
        if (k < pieces.size() && pieces[k].to < pieces[k].from && pieces[k].to <= c.from) {
          c.kind = "spike";
          c.end_s = pieces[k].end;
          c.to = peak;
          i = k + 1;
        } else {
          c.kind = "step up";
          c.end_s = pieces[j].end;
          c.to = peak;
          i = j + 1;
        }
      } else {
        size_t j = i;
        while (j + 1 < pieces.size() && pieces[j + 1].to < pieces[j + 1].from) ++j;
        c.kind = "step down";
        c.end_s = pieces[j].end;
        c.to = pieces[j].to;
        i = j + 1;
      }
      out.push_back(std::move(c));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const LoadChangeReport& a, const LoadChangeReport& b) { return a.at_s < b.at_s; });
  return out;
}

void AnalyzeLoadChanges(std::vector<LoadChangeReport>& changes, const std::vector<std::string>& gauges,
                        const std::vector<SeriesPoint>& series) {
  for (LoadChangeReport& c : changes) {
    // The band before this change leaves out the seconds of the others.
    WindowEffect e = AnalyzeWindow(series, c.at_s, c.end_s, [&changes, &c](double start, double end) {
      return std::any_of(changes.begin(), changes.end(),
                         [&](const LoadChangeReport& o) { return &o != &c && end > o.at_s && start < o.end_s; });
    });
    c.onset_s = e.onset_s;
    c.recovery_s = e.recovery_s;
    c.band_p99_ms = e.band_p99_ms;
    c.worst_p99_ms = e.worst_p99_ms;
    c.reactions.clear();
    for (const std::string& g : gauges) c.reactions.push_back(React(g, c, series));
  }
}

}  // namespace loadcell
