// `loadcell compare`: did a change make things worse? For every request name (and all
// requests together) it compares latency percentiles, throughput and error rate of two
// runs, and the system's gauges both runs sampled (monitor sources, processes, host). Headline values come from the
// merged histograms; significance comes from the per-second windows (a run's seconds are its samples: latencies within
// one second are correlated, seconds much less), with a Mann–Whitney U test and a bootstrap interval of the ratio of
// medians. A metric regresses only when the change is significant, its interval excludes "no change", and the windows'
// change exceeds the allowed regression.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/run_results.h"

namespace loadcell {

struct CompareOptions {
  double max_regression = 0.10;      // allowed relative worsening
  double alpha = 0.01;               // significance level of the U test
  double max_error_increase = 0.01;  // allowed error-rate increase, absolute (1 percentage point)
};

// kHigher/kLower: a gauge of the system under test moved significantly; whether that is
// worse depends on the gauge (CPU, pods, connections), so it is reported, not gated on.
enum class Verdict { kSame, kBetter, kWorse, kInsufficient, kHigher, kLower };
const char* VerdictName(Verdict v);

struct MetricComparison {
  std::string request;  // "" for all requests
  std::string metric;   // "p50", "p95", "p99" (ms), "rate" (req/s), "error_rate", or a gauge's key
  bool gauge = false;   // a sampled gauge (monitor_*, target_*, host_*): the median of its seconds
  double baseline = 0, current = 0;
  double change = 0;         // relative (current/baseline - 1); absolute difference for error_rate
  double window_change = 0;  // the same on the per-second windows (ratio of medians; mean difference)
  double p_value = 1;
  double ci_low = 0, ci_high = 0;  // bootstrap interval of the ratio (difference for error_rate)
  int windows_baseline = 0, windows_current = 0;
  Verdict verdict = Verdict::kSame;
};

struct Comparison {
  std::string baseline_name, current_name;
  CompareOptions options;
  std::vector<MetricComparison> rows;
  bool regressed() const;
};

// One row: `base`/`cur` are the headline values, `wb`/`wc` the per-second windows.
// `higher_is_worse`: latency and errors (throughput is the other way round); `absolute`:
// the error rate (differences in percentage points, not ratios).
MetricComparison CompareMetric(const std::string& request, const std::string& metric, double base, double cur,
                               const std::vector<double>& wb, const std::vector<double>& wc, bool higher_is_worse,
                               bool absolute, const CompareOptions& options);

Comparison CompareRuns(const RunResults& baseline, const RunResults& current, const CompareOptions& options);
std::string FormatComparison(const Comparison& c);
std::string ComparisonMarkdown(const Comparison& c);
nlohmann::json ComparisonJson(const Comparison& c);

}  // namespace loadcell
