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

#include <functional>
#include <optional>
#include <vector>

#include "results/run_results.h"
#include "scenario/definition.h"

namespace loadcell {

std::vector<FaultReport> AnalyzeFaults(const std::vector<FaultDef>& faults, const std::vector<SeriesPoint>& series);

// What a disturbance of the run from at_s to end_s did, by the rules above (the fault report
// and the load changes' both read it): the band from the seconds before at_s that `excluded`
// does not rule out, onset, recovery after end_s, the worst seconds.
struct WindowEffect {
  std::optional<double> onset_s, recovery_s;
  double worst_p99_ms = 0, worst_error_rate = 0;
  int64_t failed = 0;
  double band_p99_ms = -1, band_error_rate = -1;  // -1: no seconds to make a band from
};
WindowEffect AnalyzeWindow(const std::vector<SeriesPoint>& series, double at_s, double end_s,
                           const std::function<bool(double start, double end)>& excluded);

}  // namespace loadcell
