// A sampled gauge with labels (a monitor source's `monitor_pods{phase="Running"}`) travels
// from its source to the coordinator, the per-second series and the charts as one string
// key, written as Prometheus writes a series; the store records it as the metric with tags.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "metrics/metric_store.h"

namespace loadcell {

// `metric{k="v",...}` (labels sorted by key; quotes, backslashes and newlines in values
// escaped), or `metric` alone without labels.
std::string GaugeKey(const std::string& metric, const Tags& labels);

// The metric and its labels back from a key made by GaugeKey (a key without `{` is a
// metric without labels).
std::pair<std::string, Tags> SplitGaugeKey(const std::string& key);

// The values of the gauges in `sampled` (keyed as GaugeKey writes them) of `metric` whose
// labels include `filter`.
std::vector<double> GaugeValues(const std::map<std::string, double>& sampled, const std::string& metric,
                                const Tags& filter);

}  // namespace loadcell
