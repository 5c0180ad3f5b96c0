// Small statistics used by the analyses: rank tests and bootstrap intervals. Each one
// documents its definition so that results can be checked against a textbook or R.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace loadcell {

// Mann–Whitney U (Wilcoxon rank-sum) test of x against y, two-sided, normal approximation
// with continuity and tie corrections (as R's wilcox.test(exact = FALSE, correct = TRUE)).
struct MannWhitney {
  double u = 0;  // U of x
  double z = 0;
  double p_value = 1;  // 1 when either sample is empty or all values are tied
};
MannWhitney MannWhitneyU(const std::vector<double>& x, const std::vector<double>& y);

double Median(std::vector<double> v);
// Linear interpolation between order statistics (R's type 7 quantile).
double Quantile(std::vector<double> v, double q);

// Percentile bootstrap interval of statistic(resampled x, resampled y), `level` (e.g. 0.95),
// with a fixed seed so that the same inputs give the same interval.
struct Interval {
  double low = 0, high = 0;
};
Interval BootstrapInterval(
    const std::vector<double>& x, const std::vector<double>& y,
    const std::function<double(const std::vector<double>&, const std::vector<double>&)>& statistic,
    int resamples = 2000, double level = 0.95, uint64_t seed = 1);

}  // namespace loadcell

namespace loadcell {

// Welch's two-sample t-test, two-sided p-value (Student's t with Welch–Satterthwaite
// degrees of freedom). 1 when either sample has fewer than 2 values or both have no spread.
double WelchTTestP(const std::vector<double>& a, const std::vector<double>& b);

// Regularized incomplete beta function I_x(a, b) (continued fraction, Lentz's method).
double IncompleteBeta(double a, double b, double x);

}  // namespace loadcell
