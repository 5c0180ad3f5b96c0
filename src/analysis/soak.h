// Soak analysis: does the target's memory grow? The Theil–Sen slope (median of pairwise
// slopes: robust to GC sawtooth and outliers) of target RSS after a warm-up, with a
// bootstrap interval. A leak is suspected only when the interval's lower bound is above
// the threshold AND the second half of the run still rises: a cache that fills and then
// levels off is not a leak.
#pragma once

#include <string>
#include <vector>

namespace loadcell {

struct SoakOptions {
  double warmup_fraction = 0.2;   // of the samples, skipped
  double threshold_mb_per_h = 1;  // growth below this is not a leak
};

struct SoakFinding {
  bool enough = false;  // at least 8 samples after the warm-up
  double slope_mb_per_h = 0;
  double low_mb_per_h = 0, high_mb_per_h = 0;  // 95% bootstrap interval
  double second_half_mb_per_h = 0, second_half_low = 0;
  double percent_per_day = 0;  // of the mean RSS after warm-up
  double hours_to_limit = -1;  // until `limit_bytes`, at the slope (negative: not growing / no limit)
  bool leak_suspected = false;
  std::string message;  // the finding with its numbers
};

// Theil–Sen slope of y over x (per unit of x); at most `max_points` evenly spaced points.
double TheilSen(const std::vector<double>& x, const std::vector<double>& y, size_t max_points = 200);

// `t_s`: seconds since the start; `rss`: bytes. `limit_bytes`: the memory the growth would
// exhaust (host total), 0 when unknown.
SoakFinding AnalyzeSoak(const std::vector<double>& t_s, const std::vector<double>& rss, double limit_bytes = 0,
                        const SoakOptions& o = {});

}  // namespace loadcell
