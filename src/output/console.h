// Human-readable views of a run: the live line printed each second and the end-of-test
// summary (wrk's layout for latency, k6's vocabulary for metrics).
#pragma once

#include <cstdio>
#include <string>

#include "metrics/run_result.h"

namespace loadcell {

// "  3s  10234 req/s  p50 1.02ms  p99 4.10ms  errors 0  in-flight 50"
std::string FormatLiveLine(const QuickSecond& p, double total_s);
std::string FormatSummary(const RunResult& r);

}  // namespace loadcell
