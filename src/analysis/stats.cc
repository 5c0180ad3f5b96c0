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

Interval BootstrapInterval(
    const std::vector<double>& x, const std::vector<double>& y,
    const std::function<double(const std::vector<double>&, const std::vector<double>&)>& statistic, int resamples,
    double level, uint64_t seed) {
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

namespace loadcell {
namespace {

// The continued fraction of I_x(a, b), evaluated by the modified Lentz method.
double BetaContinuedFraction(double a, double b, double x) {
  const double tiny = 1e-300, eps = 1e-15;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (std::abs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 300; ++m) {
    double m2 = 2.0 * m;
    double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (std::abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (std::abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1 / d;
    double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1) < eps) break;
  }
  return h;
}

}  // namespace

double IncompleteBeta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  double ln_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log(1 - x);
  double front = std::exp(ln_front);
  // The fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return front * BetaContinuedFraction(a, b, x) / a;
  return 1 - front * BetaContinuedFraction(b, a, 1 - x) / b;
}

double WelchTTestP(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() < 2 || b.size() < 2) return 1;
  auto moments = [](const std::vector<double>& v, double* mean, double* var) {
    double s = 0;
    for (double x : v) s += x;
    *mean = s / static_cast<double>(v.size());
    double ss = 0;
    for (double x : v) ss += (x - *mean) * (x - *mean);
    *var = ss / static_cast<double>(v.size() - 1);
  };
  double ma, va, mb, vb;
  moments(a, &ma, &va);
  moments(b, &mb, &vb);
  double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  double se2 = va / na + vb / nb;
  if (se2 <= 0) return ma == mb ? 1 : 0;
  double t = (ma - mb) / std::sqrt(se2);
  double df = se2 * se2 / ((va / na) * (va / na) / (na - 1) + (vb / nb) * (vb / nb) / (nb - 1));
  // Two-sided: P(|T| > t) = I_{df/(df+t²)}(df/2, 1/2).
  return IncompleteBeta(df / 2, 0.5, df / (df + t * t));
}

}  // namespace loadcell
