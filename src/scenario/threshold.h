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

struct ThresholdExpr {
  enum class Aggregate { kPercentile, kAvg, kMed, kMin, kMax, kRate, kCount, kValue };
  enum class Op { kLt, kLe, kGt, kGe, kEq };
  Aggregate aggregate = Aggregate::kAvg;
  double percentile = 0;  // for kPercentile
  Op op = Op::kLt;
  double bound = 0;
  std::string source;  // as written, for messages and the summary export
  bool abort_on_fail = false;
  Nanos delay_abort_eval = 0;

  bool Holds(double observed) const;
};

Result<MetricSelector> ParseMetricSelector(std::string_view key);
Result<ThresholdExpr> ParseThresholdExpr(std::string_view text);

}  // namespace loadcell
