// Evaluates a test's thresholds against the merged metrics of a run.
#pragma once

#include <string>
#include <vector>

#include "metrics/metric_store.h"
#include "scenario/definition.h"

namespace loadcell {

struct ThresholdOutcome {
  std::string key;   // "http_req_duration{name:login}"
  std::string expr;  // "p(99)<100"
  bool ok = true;
  bool no_data = false;  // no sample matched: shown as "? no data", failed only when strict
  double observed = 0;   // in the threshold's unit (ms for trends)
};

// The value an aggregation takes on a (sub-)metric; `duration_s` turns counts into rates.
bool Aggregate(const SeriesAggregate& a, const ThresholdExpr& e, double duration_s, double* out);

std::vector<ThresholdOutcome> EvaluateThresholds(const TestDefinition& def, const MetricStore& store,
                                                 double duration_s);

}  // namespace loadcell
