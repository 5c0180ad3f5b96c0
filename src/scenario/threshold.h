// Threshold syntax (k6's): a key "metric{tag:value,...}" and expressions such as
// "p(95)<500", "rate<0.01", "count>=100", "avg<=200". Parsed when the test is loaded;
// evaluated against results by the analysis code.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace loadcell {

struct MetricSelector {
  std::string metric;                       // "http_req_duration"
  std::map<std::string, std::string> tags;  // {name: login}
  std::string ToString() const;             // canonical "metric{a:1,b:2}"
};

// How much a threshold's crossing matters (SLO tiers): only a critical one fails the run
// (exit 99); warning and info ones are reported, exported and alerted.
enum class Severity { kCritical, kWarning, kInfo };
std::string_view SeverityName(Severity s);  // "critical", "warning", "info"
bool ParseSeverity(std::string_view name, Severity* out);

// A time from the test's start as written in a test: 90s -> "1m30s", 120s -> "2m", 0.5s -> "0.5s".
std::string FormatInstant(Nanos d);

// `during` without `to`: to the end of the run.
inline constexpr Nanos kOpenEnd = -1;

struct ThresholdExpr {
  // kGrowth: a gauge's trend over the run or window (least squares over its per-second
  // values), in the bound's unit.
  enum class Aggregate { kPercentile, kAvg, kMed, kMin, kMax, kRate, kCount, kValue, kGrowth };
  enum class Op { kLt, kLe, kGt, kGe, kEq };
  // growth's unit: MB/h (MiB of a bytes gauge), %/h and %/day (of the fitted starting
  // level), /h (the gauge's own unit per hour).
  enum class GrowthUnit { kMibPerHour, kPercentPerHour, kPercentPerDay, kPerHour };
  Aggregate aggregate = Aggregate::kAvg;
  double percentile = 0;  // for kPercentile
  GrowthUnit growth_unit = GrowthUnit::kPerHour;
  Op op = Op::kLt;
  double bound = 0;
  std::string source;  // as written, for messages and the summary export
  bool abort_on_fail = false;
  Nanos delay_abort_eval = 0;
  Severity severity = Severity::kCritical;
  // Judged only on what was measured in [during_from, during_to) of the test's time (from
  // its start); the defaults: the whole run.
  Nanos during_from = 0, during_to = kOpenEnd;

  bool windowed() const { return during_from != 0 || during_to != kOpenEnd; }
  // Judged from the run's seconds (a window, a growth), not from its whole-run totals.
  bool per_second() const { return windowed() || aggregate == Aggregate::kGrowth; }
  bool Holds(double observed) const;
};

Result<MetricSelector> ParseMetricSelector(std::string_view key);
Result<ThresholdExpr> ParseThresholdExpr(std::string_view text);

}  // namespace loadcell
