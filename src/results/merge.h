// `loadcell merge`: the parts of one test split across generators (`run --segment`) made
// into the whole test's result, exactly:
// - every metric's aggregates add (counters, rates, and HDR histograms: percentiles of the
//   merged histograms are the whole test's, not an average of the parts');
// - the per-second series align by wall-clock time (each part's start, to the second):
//   counts and VUs add; per-second percentiles come from the seconds' own histograms when
//   every part is an .ndjson stream, else they are the parts' largest (an upper bound);
// - the thresholds the parts declared are returned to be judged again on the merged
//   metrics (analysis/pipeline.h), over the whole test's duration: a generator sees only
//   its share, so only the merged result can judge them.
// The parts must be the segments of one sequence, each exactly once, of the same test file.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "results/run_results.h"

namespace loadcell {

struct MergePart {
  std::string name;  // the file it was read from, for messages
  RunResults results;
  SecondStores seconds;  // per-second stores (.ndjson parts); empty for .json
};

struct MergedRun {
  RunResults results;         // thresholds not judged yet
  TestDefinition thresholds;  // the parts' thresholds (and strict_thresholds)
  ThresholdJudge per_second;  // windows and growth, from the merged seconds (.ndjson parts)
};

// `strict`: a threshold with no data fails (also on when a part recorded one so failed).
Result<MergedRun> MergeParts(std::vector<MergePart> parts, bool strict = false);

}  // namespace loadcell
