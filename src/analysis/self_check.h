// Did the generator keep up? Findings that make a run's latency less trustworthy, each
// citing the numbers behind it. Reads RunResult only.
#pragma once

#include <string>
#include <vector>

#include "metrics/run_result.h"

namespace loadcell {

// Send lag p99 above this in the open model means requests left later than scheduled.
constexpr int64_t kSendLagWarnUs = 1000;
// A worker thread busier than this was probably the bottleneck itself.
constexpr double kWorkerCpuWarn = 0.90;

std::vector<std::string> SelfCheck(const RunResult& r);

}  // namespace loadcell
