// What each injected fault did, read from the per-second series (the spec's fault report):
//
// - the pre-fault band: the seconds before the fault (up to 30 s, the first second and
//   other faults' windows left out); a second is within it when its p99 is at most the
//   band's largest p99 x 1.25 + 5 ms (per-second p99s are noisy, and connections opened
//   again after a fault cost a few ms) and its error rate at most the largest + 1
//   percentage point, and it completed at least one request (a second in which nothing completes is
//   not healthy, whatever its latency);
// - onset_s: from the fault's start to the first second (starting before the fault's end)
//   outside the band;
// - worst_p99_ms, worst_error_rate: the worst seconds from the fault's start to its
//   recovery (or the run's end);
// - failed: failed requests in those seconds (a request lost in a blackhole fails at its
//   timeout, after the window: it is counted);
// - recovery_s: from the fault's end until the seconds stay within the band for 3 s.
#pragma once

#include <vector>

#include "results/run_results.h"
#include "scenario/definition.h"

namespace loadcell {

std::vector<FaultReport> AnalyzeFaults(const std::vector<FaultDef>& faults, const std::vector<SeriesPoint>& series);

}  // namespace loadcell
