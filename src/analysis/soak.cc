#include "analysis/soak.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "analysis/stats.h"

namespace loadcell {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

std::vector<size_t> Evenly(size_t n, size_t max_points) {
  std::vector<size_t> idx;
  if (n <= max_points) {
    for (size_t i = 0; i < n; ++i) idx.push_back(i);
    return idx;
  }
  for (size_t k = 0; k < max_points; ++k) idx.push_back(k * (n - 1) / (max_points - 1));
  return idx;
}

// Slope in MiB per hour, with a bootstrap interval over resampled (t, rss) pairs.
void SlopeWithInterval(const std::vector<double>& t, const std::vector<double>& y, double* slope, double* low,
                       double* high) {
  *slope = TheilSen(t, y) * 3600 / kMiB;
  std::mt19937_64 rng(7);
  std::vector<size_t> idx = Evenly(t.size(), 120);
  std::uniform_int_distribution<size_t> pick(0, idx.size() - 1);
  std::vector<double> slopes;
  for (int b = 0; b < 400; ++b) {
    std::vector<double> bt, by;
    for (size_t i = 0; i < idx.size(); ++i) {
      size_t j = idx[pick(rng)];
      bt.push_back(t[j]);
      by.push_back(y[j]);
    }
    slopes.push_back(TheilSen(bt, by) * 3600 / kMiB);
  }
  *low = Quantile(slopes, 0.025);
  *high = Quantile(slopes, 0.975);
}

}  // namespace

double TheilSen(const std::vector<double>& x, const std::vector<double>& y, size_t max_points) {
  std::vector<size_t> idx = Evenly(std::min(x.size(), y.size()), max_points);
  std::vector<double> slopes;
  for (size_t a = 0; a < idx.size(); ++a) {
    for (size_t b = a + 1; b < idx.size(); ++b) {
      double dx = x[idx[b]] - x[idx[a]];
      if (dx != 0) slopes.push_back((y[idx[b]] - y[idx[a]]) / dx);
    }
  }
  return slopes.empty() ? 0 : Median(std::move(slopes));
}

SoakFinding AnalyzeSoak(const std::vector<double>& t_s, const std::vector<double>& rss, double limit_bytes,
                        const SoakOptions& o) {
  SoakFinding f;
  size_t n = std::min(t_s.size(), rss.size());
  size_t skip = static_cast<size_t>(std::floor(static_cast<double>(n) * o.warmup_fraction));
  if (n - skip < 8) {
    f.message = fmt::format("memory growth: too few samples after the warm-up ({}; need 8)", n - skip);
    return f;
  }
  f.enough = true;
  std::vector<double> t(t_s.begin() + static_cast<long>(skip), t_s.begin() + static_cast<long>(n));
  std::vector<double> y(rss.begin() + static_cast<long>(skip), rss.begin() + static_cast<long>(n));
  SlopeWithInterval(t, y, &f.slope_mb_per_h, &f.low_mb_per_h, &f.high_mb_per_h);
  size_t half = t.size() / 2;
  std::vector<double> t2(t.begin() + static_cast<long>(half), t.end()),
      y2(y.begin() + static_cast<long>(half), y.end());
  double high2 = 0;
  SlopeWithInterval(t2, y2, &f.second_half_mb_per_h, &f.second_half_low, &high2);
  double mean = 0;
  for (double v : y) mean += v / static_cast<double>(y.size());
  f.percent_per_day = mean > 0 ? 100.0 * f.slope_mb_per_h * 24 * kMiB / mean : 0;
  if (limit_bytes > 0 && f.slope_mb_per_h > 0) f.hours_to_limit = (limit_bytes - y.back()) / kMiB / f.slope_mb_per_h;
  bool still_rising = f.second_half_low > 0 && f.second_half_mb_per_h >= 0.5 * f.slope_mb_per_h;
  f.leak_suspected = f.low_mb_per_h > o.threshold_mb_per_h && still_rising;
  std::string projection =
      f.hours_to_limit > 0 ? fmt::format("; at this rate memory runs out in {:.1f} h", f.hours_to_limit) : "";
  f.message = fmt::format(
      "target RSS grows {:.1f} MB/h [95%: {:.1f}, {:.1f}] ({:.1f}%/day) after a {:.0f}% warm-up; second half {:.1f} "
      "MB/h "
      "[low {:.1f}]: {}{}",
      f.slope_mb_per_h, f.low_mb_per_h, f.high_mb_per_h, f.percent_per_day, 100 * o.warmup_fraction,
      f.second_half_mb_per_h, f.second_half_low,
      f.leak_suspected                        ? "LEAK SUSPECTED (growth above the threshold and still rising)"
      : f.low_mb_per_h > o.threshold_mb_per_h ? "grew, then levelled off (a cache, not a leak)"
                                              : "no significant growth",
      projection);
  return f;
}

}  // namespace loadcell
