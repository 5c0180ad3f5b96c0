// Response-time distributions for the built-in target: "fixed:20ms", "uniform:5ms..50ms",
// "normal:20ms,5ms", "lognormal:20ms,0.5" (median, sigma), "exp:20ms" (mean).
#pragma once

#include <random>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace loadcell {

class LatencyDist {
 public:
  enum class Kind { kNone, kFixed, kUniform, kNormal, kLogNormal, kExp };
  static Result<LatencyDist> Parse(std::string_view text);

  bool none() const { return kind_ == Kind::kNone; }
  Nanos Sample(std::mt19937_64& rng) const;  // never negative

 private:
  Kind kind_ = Kind::kNone;
  double a_ = 0;  // ns: fixed value, uniform low, normal/lognormal median/mean, exp mean
  double b_ = 0;  // ns: uniform high, normal stddev; lognormal sigma (unitless)
};

// "--stall 1s/10s": every period, all responses freeze for `length`.
struct StallSpec {
  Nanos length = 0;
  Nanos period = 0;
  bool none() const { return period == 0; }
  static Result<StallSpec> Parse(std::string_view text);
  // When a response due at `t` (relative to the server's start) may actually leave.
  Nanos Release(Nanos t) const;
};

}  // namespace loadcell
