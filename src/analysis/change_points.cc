#include "analysis/change_points.h"

#include <algorithm>
#include <cmath>

#include "analysis/stats.h"

namespace loadcell {
namespace {

// Székely–Rizzo energy statistic between x[lo,k) and x[k,hi), scaled by nm/(n+m).
double Energy(const std::vector<double>& x, size_t lo, size_t k, size_t hi) {
  double n = static_cast<double>(k - lo), m = static_cast<double>(hi - k);
  double between = 0, within_a = 0, within_b = 0;
  for (size_t i = lo; i < k; ++i) {
    for (size_t j = k; j < hi; ++j) between += std::abs(x[i] - x[j]);
  }
  for (size_t i = lo; i < k; ++i) {
    for (size_t j = lo; j < k; ++j) within_a += std::abs(x[i] - x[j]);
  }
  for (size_t i = k; i < hi; ++i) {
    for (size_t j = k; j < hi; ++j) within_b += std::abs(x[i] - x[j]);
  }
  double e = 2 * between / (n * m) - within_a / (n * n) - within_b / (m * m);
  return e * n * m / (n + m);
}

double Mean(const std::vector<double>& x, size_t lo, size_t hi) {
  double s = 0;
  for (size_t i = lo; i < hi; ++i) s += x[i];
  return s / static_cast<double>(hi - lo);
}

void Split(const std::vector<double>& x, size_t lo, size_t hi, double alpha, size_t min_size,
           std::vector<ChangePoint>* out) {
  if (hi - lo < 2 * min_size) return;
  size_t best = 0;
  double best_e = -1;
  for (size_t k = lo + min_size; k + min_size <= hi; ++k) {
    double e = Energy(x, lo, k, hi);
    if (e > best_e) {
      best_e = e;
      best = k;
    }
  }
  if (best == 0) return;
  std::vector<double> a(x.begin() + static_cast<long>(lo), x.begin() + static_cast<long>(best));
  std::vector<double> b(x.begin() + static_cast<long>(best), x.begin() + static_cast<long>(hi));
  double p = WelchTTestP(a, b);
  if (p >= alpha) return;
  out->push_back({best, Mean(x, lo, best), Mean(x, best, hi), p});
  Split(x, lo, best, alpha, min_size, out);
  Split(x, best, hi, alpha, min_size, out);
}

}  // namespace

std::vector<ChangePoint> EDivisive(const std::vector<double>& x, double alpha, size_t min_size) {
  std::vector<ChangePoint> out;
  Split(x, 0, x.size(), alpha, std::max<size_t>(2, min_size), &out);
  std::sort(out.begin(), out.end(), [](const ChangePoint& a, const ChangePoint& b) { return a.index < b.index; });
  return out;
}

nlohmann::json ChangePointsJson(const std::vector<ChangePoint>& points, const std::function<int64_t(size_t)>& run_id) {
  nlohmann::json out = nlohmann::json::array();
  for (const ChangePoint& c : points) {
    out.push_back({{"run_id", run_id(c.index)},
                   {"index", c.index},
                   {"before", c.before},
                   {"after", c.after},
                   {"p_value", c.p_value}});
  }
  return out;
}

}  // namespace loadcell
