// Prometheus text exposition (format 0.0.4) of a run's cumulative metrics, named as the
// spec says: `loadcell_` + the metric name; counters end in `_total`; trends are
// histograms in seconds (`loadcell_http_req_duration_seconds`); labels are the samples'
// tags. Rates are counted: `loadcell_http_req_failed_total` counts failed requests,
// `loadcell_checks_total` carries `result="pass|fail"`.
#pragma once

#include <map>
#include <string>

#include "common/clock.h"
#include "metrics/metric_store.h"

namespace loadcell {

struct PrometheusGauges {
  double vus = 0;                           // VUs in an iteration, last second
  double generator_cpu = -1;                // loadcell's CPU time over the last second / cores (negative: unknown)
  std::map<std::string, double> resources;  // monitor gauges: loadcell_target_cpu, ...
};

// `extra` labels (e.g. generator="2") go on every sample.
std::string PrometheusText(const MetricStore& cumulative, const PrometheusGauges& gauges, const Tags& extra = {});

// "http_req_duration" -> "loadcell_http_req_duration"; invalid characters become '_'.
std::string PrometheusName(const std::string& metric);

}  // namespace loadcell
