// Every metric loadcell records: its name, type, unit and what it measures — one list that
// the loader (which names thresholds may use), the outputs (how a value is shown) and
// docs/metrics.md (kept equal to it by tests/integration/test_catalog.py, which also checks
// that every name recorded under src/ is here) read.
#pragma once

#include <string_view>
#include <vector>

namespace loadcell {

enum class MetricType { kCounter, kRate, kTrend, kGauge };
enum class MetricUnit {
  kCount,           // how many
  kTime,            // a duration (recorded in ns, shown in ms/s)
  kBytes,           // bytes
  kBytesPerSecond,  // bytes per second
  kPercent,         // % (of one core for CPU gauges)
  kNone,            // a ratio, a flag or a rate in other units (the description says)
};

struct MetricInfo {
  std::string_view name;
  MetricType type;
  MetricUnit unit;
  std::string_view what;
};

const std::vector<MetricInfo>& MetricCatalog();

// The gauges a monitor source names at run time (`monitor.scrape`: monitor_<family>, its
// labels as tags): not in the catalogue, whose names are fixed, but gauges all the same.
inline constexpr std::string_view kMonitorGaugePrefix = "monitor_";
const MetricInfo& MonitorGaugeInfo();
// A metric a test declares (`metrics:`), by its type (a trend's values are durations).
const MetricInfo& CustomMetricInfo(MetricType type);
// nullptr when `name` is not a metric loadcell records.
const MetricInfo* FindMetric(std::string_view name);
std::string_view MetricTypeName(MetricType t);  // "counter", "rate", "trend", "gauge"

}  // namespace loadcell
