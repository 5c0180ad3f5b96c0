#include "analysis/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace loadcell {

MannWhitney MannWhitneyU(const std::vector<double>& x, const std::vector<double>& y) {
  MannWhitney r;
  const size_t n1 = x.size(), n2 = y.size();
  if (n1 == 0 || n2 == 0) return r;
  std::vector<std::pair<double, int>> all;
  all.reserve(n1 + n2);
  for (double v : x) all.emplace_back(v, 0);
  for (double v : y) all.emplace_back(v, 1);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  // Average ranks over ties; the tie term corrects the variance.
  double rank_sum_x = 0, tie_term = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k) {
      if (all[k].second == 0) rank_sum_x += avg_rank;
    }
    double t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    i = j;
  }
  double a = static_cast<double>(n1), b = static_cast<double>(n2), n = a + b;
  r.u = rank_sum_x - a * (a + 1) / 2.0;
  double mean = a * b / 2.0;
  double var = a * b / 12.0 * ((n + 1) - tie_term / (n * (n - 1)));
  if (var <= 0) return r;
  double diff = r.u - mean;
  double corrected = std::max(0.0, std::abs(diff) - 0.5);
  r.z = (diff < 0 ? -corrected : corrected) / std::sqrt(var);
  r.p_value = std::erfc(std::abs(r.z) / std::sqrt(2.0));
  return r;
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double h = (static_cast<double>(v.size()) - 1) * q;
  size_t lo = static_cast<size_t>(std::floor(h));
  size_t hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

double Median(std::vector<double> v) { return Quantile(std::move(v), 0.5); }

Interval BootstrapInterval(const std::vector<double>& x, const std::vector<double>& y,
                           const std::function<double(const std::vector<double>&, const std::vector<double>&)>& statistic,
                           int resamples, double level, uint64_t seed) {
  Interval out;
  if (x.empty() || y.empty()) return out;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> px(0, x.size() - 1), py(0, y.size() - 1);
  std::vector<double> stats, rx(x.size()), ry(y.size());
  stats.reserve(static_cast<size_t>(resamples));
  for (int i = 0; i < resamples; ++i) {
    for (double& v : rx) v = x[px(rng)];
    for (double& v : ry) v = y[py(rng)];
    stats.push_back(statistic(rx, ry));
  }
  double tail = (1 - level) / 2;
  out.low = Quantile(stats, tail);
  out.high = Quantile(std::move(stats), 1 - tail);
  return out;
}

}  // namespace loadcell
