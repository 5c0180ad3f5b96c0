// Reaction and recovery for any change of the load, not only injected faults: the changes
// a ramping scenario's stages make, each judged on the per-second series as a fault is
// (analysis/fault_report.h: the latency band before it, onset, recovery after it), and the
// time until each gauge of `monitor.reactions` reacted ("scaled out 48 s after the step").
//
// What counts as a change: a stage whose target differs from the level before it. A rise
// that a later fall brings back to (or below) the level before it is one spike, from the
// rise's start to the fall's end; other consecutive rises are one step up, falls one step
// down. A gauge reacts in the first second from the change's start whose value differs from
// its level before (the median of the 5 s before) by more than 10% of that level and 3
// standard deviations of those seconds (at least 1 for a gauge whose values are whole).
#pragma once

#include <string>
#include <vector>

#include "results/run_results.h"
#include "scenario/definition.h"

namespace loadcell {

// The changes the test's scenarios make, not judged yet.
std::vector<LoadChangeReport> LoadChangesOf(const TestDefinition& def);

// Judges `changes` on the series: onset, recovery, worst p99, and the reactions of `gauges`
// (metric names with an optional tag filter, as thresholds write them).
void AnalyzeLoadChanges(std::vector<LoadChangeReport>& changes, const std::vector<std::string>& gauges,
                        const std::vector<SeriesPoint>& series);

}  // namespace loadcell
