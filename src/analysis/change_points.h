// Change points in a series of runs (p95 of each nightly run, say), as Hunter finds them:
// E-divisive means — split where the energy statistic between the two sides is largest —
// kept only when a Welch t-test between the two sides is significant, then recursively
// within each side.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

namespace loadcell {

struct ChangePoint {
  size_t index = 0;   // first value of the new segment
  double before = 0;  // mean of the segment before
  double after = 0;   // mean of the segment after
  double p_value = 1;
};

std::vector<ChangePoint> EDivisive(const std::vector<double>& x, double alpha = 0.01, size_t min_size = 3);

// The change points of runs' values as `history --json` and the service's trends write
// them: [{run_id, index, before, after, p_value}], `run_id(i)` naming the run at index i.
nlohmann::json ChangePointsJson(const std::vector<ChangePoint>& points, const std::function<int64_t(size_t)>& run_id);

}  // namespace loadcell
