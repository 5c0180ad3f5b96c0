// The Universal Scalability Law (Gunther): X(N) = λN / (1 + σ(N−1) + κN(N−1)), fitted to
// (concurrency, throughput) measurements by Levenberg–Marquardt, with bootstrap intervals
// (residual resampling) for σ, κ, λ and the peak. σ is contention (queueing on a shared
// resource), κ coherency (crosstalk: every worker paying for every other one).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace loadcell {

struct UslPoint {
  double n = 0, x = 0;  // concurrency, throughput
};

struct UslFit {
  double sigma = 0, kappa = 0, lambda = 0;
  double n_star = 0;  // √((1−σ)/κ); infinite when κ = 0
  double x_max = 0;   // X(N*), or the asymptote λ/σ when κ = 0
  double r_squared = 0;
  struct Range {
    double low = 0, high = 0;
  } sigma_ci, kappa_ci, lambda_ci, n_star_ci;
  std::string limit;  // which term limits, in words, citing the numbers
  int points = 0;
  double Predict(double n) const { return lambda * n / (1 + sigma * (n - 1) + kappa * n * (n - 1)); }
};

// At least 3 points with positive concurrency and throughput.
Result<UslFit> FitUsl(const std::vector<UslPoint>& points, int bootstrap = 1000);
// "concurrency,throughput" rows; a header line is allowed. Errors name FILE:LINE.
Result<std::vector<UslPoint>> ReadUslCsv(const std::string& text, const std::string& name);

// The concurrency needed for `target` throughput (the smallest N with X(N) >= target),
// or a negative value when the fit never reaches it.
double ConcurrencyFor(const UslFit& f, double target);

nlohmann::json UslJson(const UslFit& f, const std::vector<UslPoint>& points);
std::string FormatUsl(const UslFit& f, const std::vector<UslPoint>& points);

}  // namespace loadcell
