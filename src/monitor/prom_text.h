// The Prometheus text exposition format (and OpenMetrics text, which extends it), as a
// service's own /metrics endpoint serves it: what `monitor: scrape:` reads. A body from a
// server loadcell does not control is hostile input: the parser bounds what it keeps and
// fails with the line that is wrong.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace loadcell {

enum class PromType { kUntyped, kCounter, kGauge, kHistogram, kSummary };

struct PromSample {
  std::string name;                                         // as written: `x_total`, `x_bucket`, ...
  std::vector<std::pair<std::string, std::string>> labels;  // in written order
  double value = 0;
};

struct PromExposition {
  std::vector<PromSample> samples;
  std::map<std::string, PromType> types;  // family name (from `# TYPE`) -> type
};

// At most `max_samples` samples are kept (a larger body is an error, not a silent cut).
Result<PromExposition> ParsePromText(std::string_view text, size_t max_samples = 100000);

// The family a sample belongs to and its type: `x_bucket`/`x_sum`/`x_count` of histogram
// `x`, `x_total` of counter `x` (OpenMetrics) or of an untyped `x_total`, etc. A sample whose
// family has no `# TYPE` is untyped under its own name.
std::pair<std::string, PromType> FamilyOf(const PromExposition& e, const std::string& sample_name);

}  // namespace loadcell
