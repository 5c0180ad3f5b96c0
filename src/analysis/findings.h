// Bottleneck findings: rules over a run's results that say where the limit probably is,
// each citing the numbers behind it, and Apdex per request name. Generator-limited runs
// come first (then nothing else can be trusted as much). Rules:
//   generator   — the self-check's notes (loadcell's CPU, dropped iterations);
//   cpu_bound   — throughput flat while latency rises and the target's CPU is saturated;
//   connections — failures dominated by connect errors/timeouts: accept queue or limits;
//   pauses      — latency spikes in the seconds where the target's RSS dropped (GC);
//   isolation   — one value of a user tag (a tenant) with a p95 far above the others,
//                 with Jain's fairness index across the values.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "results/run_results.h"

namespace loadcell {

std::vector<Finding> FindBottlenecks(const RunResults& r);

// Jain's fairness index of non-negative values: (Σx)² / (n·Σx²), 1 when all are equal,
// 1/n when one value has everything.
double JainIndex(const std::vector<double>& x);

// Per request name: satisfied within t_ms, tolerating within 4·t_ms, frustrated beyond or
// failed (an error is always frustrated). From the histograms, so exact to HDR's 0.1%.
std::map<std::string, Apdex> ApdexByName(const RunResults& r, double t_ms);

}  // namespace loadcell
