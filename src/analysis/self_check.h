// Did the generator keep up? Findings that make a run's latency less trustworthy, each
// citing the numbers behind it.
#pragma once

#include <string>
#include <vector>

#include "metrics/metric_store.h"

namespace loadcell {

// Send lag p99 above this in the open model means requests left later than scheduled.
constexpr int64_t kSendLagWarnUs = 1000;
// A worker thread busier than this was probably the bottleneck itself.
constexpr double kWorkerCpuWarn = 0.90;

// The generator's CPU (from the monitor's generator_cpu, % of one core, against `threads`
// workers), arrivals that started late or waited for a VU, and dropped iterations.
// `overload_expected` (a capacity search drives past the limit on purpose): dropped
// iterations are then a result, not a warning.
std::vector<std::string> SelfCheckTest(const MetricStore& store, double duration_s, int threads,
                                       bool overload_expected = false);

}  // namespace loadcell
