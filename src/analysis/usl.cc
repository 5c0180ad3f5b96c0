#include "analysis/usl.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "analysis/stats.h"

namespace loadcell {
namespace {

struct Params {
  double sigma, kappa, lambda;
};

double Model(const Params& p, double n) { return p.lambda * n / (1 + p.sigma * (n - 1) + p.kappa * n * (n - 1)); }

double Sse(const Params& p, const std::vector<UslPoint>& pts) {
  double s = 0;
  for (const UslPoint& q : pts) {
    double r = q.x - Model(p, q.n);
    s += r * r;
  }
  return s;
}

// Solves the 3x3 system A d = b (Gaussian elimination with partial pivoting).
bool Solve3(double a[3][3], double b[3], double d[3]) {
  for (int c = 0; c < 3; ++c) {
    int piv = c;
    for (int r = c + 1; r < 3; ++r) {
      if (std::abs(a[r][c]) > std::abs(a[piv][c])) piv = r;
    }
    if (std::abs(a[piv][c]) < 1e-300) return false;
    std::swap(a[c], a[piv]);
    std::swap(b[c], b[piv]);
    for (int r = c + 1; r < 3; ++r) {
      double f = a[r][c] / a[c][c];
      for (int k = c; k < 3; ++k) a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  for (int r = 2; r >= 0; --r) {
    double s = b[r];
    for (int k = r + 1; k < 3; ++k) s -= a[r][k] * d[k];
    d[r] = s / a[r][r];
  }
  return true;
}

// Levenberg–Marquardt on the sum of squared residuals, σ and κ kept non-negative.
Params Fit(const std::vector<UslPoint>& pts, Params p) {
  double mu = 1e-3;
  double sse = Sse(p, pts);
  for (int iter = 0; iter < 500; ++iter) {
    double jtj[3][3] = {{0}}, jtr[3] = {0};
    for (const UslPoint& q : pts) {
      double n = q.n;
      double den = 1 + p.sigma * (n - 1) + p.kappa * n * (n - 1);
      double f = p.lambda * n / den;
      double g[3] = {-f * (n - 1) / den, -f * n * (n - 1) / den, n / den};  // ∂f/∂σ, ∂f/∂κ, ∂f/∂λ
      double r = q.x - f;
      for (int i = 0; i < 3; ++i) {
        jtr[i] += g[i] * r;
        for (int j = 0; j < 3; ++j) jtj[i][j] += g[i] * g[j];
      }
    }
    bool improved = false;
    for (int tries = 0; tries < 30 && !improved; ++tries) {
      double a[3][3], b[3], d[3] = {0};
      for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) a[i][j] = jtj[i][j] + (i == j ? mu * std::max(jtj[i][i], 1e-30) : 0);
        b[i] = jtr[i];
      }
      if (!Solve3(a, b, d)) {
        mu *= 10;
        continue;
      }
      Params next{std::max(0.0, p.sigma + d[0]), std::max(0.0, p.kappa + d[1]), std::max(1e-300, p.lambda + d[2])};
      double s = Sse(next, pts);
      if (s < sse) {
        double rel = (sse - s) / std::max(sse, 1e-300);
        p = next;
        sse = s;
        mu = std::max(mu / 10, 1e-12);
        improved = true;
        if (rel < 1e-14) return p;
      } else {
        mu *= 10;
      }
    }
    if (!improved) break;
  }
  return p;
}

void Derive(UslFit* f) {
  if (f->kappa > 0) {
    f->n_star = std::sqrt(std::max(0.0, 1 - f->sigma) / f->kappa);
    f->x_max = f->Predict(f->n_star);
  } else {
    f->n_star = INFINITY;
    f->x_max = f->sigma > 0 ? f->lambda / f->sigma : INFINITY;
  }
}

}  // namespace

Result<UslFit> FitUsl(const std::vector<UslPoint>& points, int bootstrap) {
  if (points.size() < 3)
    return Error::InvalidArgument(fmt::format("need at least 3 points to fit 3 parameters, got {}", points.size()));
  for (const UslPoint& p : points) {
    if (!(p.n > 0) || !(p.x > 0)) return Error::InvalidArgument("concurrency and throughput must be positive");
  }
  std::vector<UslPoint> pts = points;
  std::sort(pts.begin(), pts.end(), [](const UslPoint& a, const UslPoint& b) { return a.n < b.n; });
  // λ starts at the best per-unit throughput seen; σ and κ small.
  double lambda0 = 0;
  for (const UslPoint& p : pts) lambda0 = std::max(lambda0, p.x / p.n);
  Params best{0, 0, lambda0};
  double best_sse = INFINITY;
  for (double s0 : {0.0, 0.01, 0.1, 0.5}) {
    for (double k0 : {0.0, 1e-5, 1e-3, 1e-2}) {
      Params p = Fit(pts, {s0, k0, lambda0});
      double s = Sse(p, pts);
      if (s < best_sse) {
        best_sse = s;
        best = p;
      }
    }
  }
  UslFit f;
  f.sigma = best.sigma;
  f.kappa = best.kappa;
  f.lambda = best.lambda;
  f.points = static_cast<int>(pts.size());
  Derive(&f);
  double mean = 0;
  for (const UslPoint& p : pts) mean += p.x / static_cast<double>(pts.size());
  double sst = 0;
  for (const UslPoint& p : pts) sst += (p.x - mean) * (p.x - mean);
  f.r_squared = sst > 0 ? 1 - best_sse / sst : 1;
  // Residual bootstrap: refit to fitted values plus resampled residuals.
  std::vector<double> resid;
  for (const UslPoint& p : pts) resid.push_back(p.x - f.Predict(p.n));
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<size_t> pick(0, resid.size() - 1);
  std::vector<double> ss, ks, ls, ns;
  for (int b = 0; b < bootstrap; ++b) {
    std::vector<UslPoint> sample = pts;
    for (UslPoint& p : sample) p.x = std::max(1e-12, f.Predict(p.n) + resid[pick(rng)]);
    Params q = Fit(sample, best);
    ss.push_back(q.sigma);
    ks.push_back(q.kappa);
    ls.push_back(q.lambda);
    ns.push_back(q.kappa > 0 ? std::sqrt(std::max(0.0, 1 - q.sigma) / q.kappa) : 1e300);
  }
  if (bootstrap > 0) {
    f.sigma_ci = {Quantile(ss, 0.025), Quantile(ss, 0.975)};
    f.kappa_ci = {Quantile(ks, 0.025), Quantile(ks, 0.975)};
    f.lambda_ci = {Quantile(ls, 0.025), Quantile(ls, 0.975)};
    f.n_star_ci = {Quantile(ns, 0.025), Quantile(ns, 0.975)};
  }
  // Which term limits at the highest measured concurrency.
  double n = pts.back().n;
  double contention = f.sigma * (n - 1), coherency = f.kappa * n * (n - 1);
  if (f.kappa > 0 && coherency > contention) {
    f.limit = fmt::format(
        "coherency (κ) limits: at N={:g} crosstalk costs {:.3f} against contention's {:.3f}; throughput "
        "peaks at N*={:.1f} and falls beyond it",
        n, coherency, contention, f.n_star);
  } else {
    f.limit = fmt::format(
        "contention (σ) limits: at N={:g} queueing costs {:.3f} against crosstalk's {:.3f}; throughput "
        "approaches {}",
        n, contention, coherency,
        f.kappa > 0 ? fmt::format("its peak {:.4g} at N*={:.1f}", f.x_max, f.n_star)
                    : fmt::format("λ/σ = {:.4g}", f.x_max));
  }
  return f;
}

double ConcurrencyFor(const UslFit& f, double target) {
  if (target <= 0) return 0;
  double limit = std::isfinite(f.n_star) ? f.n_star : 1e9;
  if (f.Predict(limit) < target) return -1;
  double lo = 0, hi = limit;  // X is increasing up to N*
  for (int i = 0; i < 200; ++i) {
    double mid = (lo + hi) / 2;
    (f.Predict(mid) >= target ? hi : lo) = mid;
  }
  return std::ceil(hi - 1e-9);
}

Result<std::vector<UslPoint>> ReadUslCsv(const std::string& text, const std::string& name) {
  std::vector<UslPoint> out;
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    size_t comma = line.find(',');
    char* end1 = nullptr;
    char* end2 = nullptr;
    double n = 0, x = 0;
    if (comma != std::string::npos) {
      std::string a = line.substr(0, comma), b = line.substr(comma + 1);
      n = std::strtod(a.c_str(), &end1);
      x = std::strtod(b.c_str(), &end2);
      bool ok = end1 != a.c_str() && *end1 == '\0' && end2 != b.c_str() && (*end2 == '\0' || *end2 == ',');
      if (ok) {
        out.push_back({n, x});
        continue;
      }
    }
    if (out.empty() && line_no == 1) continue;  // a header
    return Error::InvalidArgument(
        fmt::format("{}:{}: expected \"concurrency,throughput\" (two numbers), got \"{}\"", name, line_no, line));
  }
  return out;
}

nlohmann::json UslJson(const UslFit& f, const std::vector<UslPoint>& points) {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  nlohmann::json pts = nlohmann::json::array();
  for (const UslPoint& p : points)
    pts.push_back({{"concurrency", p.n}, {"throughput", p.x}, {"predicted", f.Predict(p.n)}});
  return {{"sigma", f.sigma},
          {"kappa", f.kappa},
          {"lambda", f.lambda},
          {"n_star", num(f.n_star)},
          {"x_max", num(f.x_max)},
          {"r_squared", f.r_squared},
          {"ci95",
           {{"sigma", {f.sigma_ci.low, f.sigma_ci.high}},
            {"kappa", {f.kappa_ci.low, f.kappa_ci.high}},
            {"lambda", {f.lambda_ci.low, f.lambda_ci.high}},
            {"n_star", {num(f.n_star_ci.low), num(f.n_star_ci.high)}}}},
          {"limit", f.limit},
          {"points", pts}};
}

std::string FormatUsl(const UslFit& f, const std::vector<UslPoint>& points) {
  std::string out =
      fmt::format("Universal Scalability Law fit of {} points (R² = {:.4f})\n", points.size(), f.r_squared);
  out += fmt::format("  σ (contention) = {:.6g}  [{:.6g}, {:.6g}]\n", f.sigma, f.sigma_ci.low, f.sigma_ci.high);
  out += fmt::format("  κ (coherency)  = {:.6g}  [{:.6g}, {:.6g}]\n", f.kappa, f.kappa_ci.low, f.kappa_ci.high);
  out += fmt::format("  λ (per unit)   = {:.6g}  [{:.6g}, {:.6g}]\n", f.lambda, f.lambda_ci.low, f.lambda_ci.high);
  if (std::isfinite(f.n_star)) {
    out += fmt::format("  N* = {:.1f}  [{:.1f}, {:.1f}], peak throughput X(N*) = {:.6g}\n", f.n_star, f.n_star_ci.low,
                       f.n_star_ci.high, f.x_max);
  } else {
    out += fmt::format("  no peak (κ = 0): throughput approaches λ/σ = {:.6g}\n", f.x_max);
  }
  out += "  " + f.limit + "\n";
  double today = points.empty() ? 0 : points.back().x;
  double need = ConcurrencyFor(f, 3 * today);
  out += need < 0 ? fmt::format(
                        "  3x today's throughput ({:.6g}) is beyond the fit's maximum ({:.6g}): scale out or remove "
                        "the limit first\n",
                        3 * today, f.x_max)
                  : fmt::format("  3x today's throughput ({:.6g}) needs concurrency {:.0f}\n", 3 * today, need);
  return out;
}

}  // namespace loadcell
