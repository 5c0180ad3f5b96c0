#include "analysis/fault_report.h"

#include <algorithm>

namespace loadcell {
namespace {

constexpr double kBaselineSpan = 30;  // seconds before a fault that make its band
constexpr double kStable = 3;         // seconds within the band that count as recovered

struct Second {
  double start = 0, end = 0;
  int64_t reqs = 0, failed = 0;
  double p99 = 0;
  double error_rate() const { return reqs > 0 ? static_cast<double>(failed) / static_cast<double>(reqs) : 0; }
};

double Seconds(Nanos n) { return static_cast<double>(n) / 1e9; }

}  // namespace

WindowEffect AnalyzeWindow(const std::vector<SeriesPoint>& series, double at_s, double end_s,
                           const std::function<bool(double start, double end)>& excluded) {
  std::vector<Second> secs;
  for (const SeriesPoint& p : series) {
    // Point t covers [t - dur, t) (a downsampled point covers several seconds).
    secs.push_back({static_cast<double>(p.t) - p.dur, static_cast<double>(p.t), p.all.reqs, p.all.failed, p.all.p99});
  }
  WindowEffect r;
  const double end = end_s;
  // The band, from the healthy seconds just before.
  double band_p99 = -1, band_err = -1;
  for (size_t i = 0; i < secs.size(); ++i) {
    const Second& s = secs[i];
    if (s.end > at_s + 1e-9 || s.start < at_s - kBaselineSpan || s.reqs == 0 || excluded(s.start, s.end)) continue;
    if (i == 0 && secs.size() > 1 && secs[1].end <= at_s + 1e-9) continue;  // warm-up
    band_p99 = std::max(band_p99, s.p99);
    band_err = std::max(band_err, s.error_rate());
  }
  const bool have_band = band_p99 >= 0;
  r.band_p99_ms = have_band ? band_p99 * 1.25 + 5.0 : -1;
  r.band_error_rate = have_band ? band_err + 0.01 : -1;
  auto within = [&](const Second& s) {
    return s.reqs > 0 && s.p99 <= r.band_p99_ms && s.error_rate() <= r.band_error_rate;
  };
  double until = secs.empty() ? end : secs.back().end;  // the seconds the effects cover
  if (have_band) {
    for (const Second& s : secs) {
      if (s.end <= at_s + 1e-9 || s.start >= end - 1e-9) continue;
      if (!within(s)) {
        r.onset_s = std::max(0.0, s.start - at_s);
        break;
      }
    }
    // Recovery: the first second from the end that starts kStable seconds in band.
    for (size_t i = 0; i < secs.size(); ++i) {
      if (secs[i].start < end - 1e-9) continue;
      double covered = 0;
      size_t j = i;
      // A run's last second may be a few ms short of a second: 0.1 s of slack.
      while (j < secs.size() && within(secs[j]) && covered < kStable - 0.1) {
        covered += secs[j].end - secs[j].start;
        ++j;
      }
      if (covered >= kStable - 0.1) {
        r.recovery_s = secs[i].start - end;
        // Through the stable seconds: stragglers (a lost request failing at its timeout) can
        // land in them, within the band's 1 point of errors.
        until = secs[j - 1].end;
        break;
      }
    }
  }
  for (const Second& s : secs) {
    if (s.end <= at_s + 1e-9 || s.start >= until - 1e-9) continue;
    r.worst_p99_ms = std::max(r.worst_p99_ms, s.p99);
    r.worst_error_rate = std::max(r.worst_error_rate, s.error_rate());
    r.failed += s.failed;
  }
  return r;
}

std::vector<FaultReport> AnalyzeFaults(const std::vector<FaultDef>& faults, const std::vector<SeriesPoint>& series) {
  std::vector<FaultReport> out;
  for (const FaultDef& f : faults) {
    FaultReport r;
    r.kind = FaultKindName(f.kind);
    r.scenario = f.scenario;
    r.at_s = Seconds(f.at);
    r.duration_s = Seconds(f.duration);
    WindowEffect e = AnalyzeWindow(series, r.at_s, r.at_s + r.duration_s, [&faults](double start, double end) {
      return std::any_of(faults.begin(), faults.end(),
                         [&](const FaultDef& g) { return end > Seconds(g.at) && start < Seconds(g.at + g.duration); });
    });
    r.onset_s = e.onset_s;
    r.recovery_s = e.recovery_s;
    r.worst_p99_ms = e.worst_p99_ms;
    r.worst_error_rate = e.worst_error_rate;
    r.failed = e.failed;
    r.band_p99_ms = e.band_p99_ms;
    r.band_error_rate = e.band_error_rate;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace loadcell
