#include "target/latency_dist.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/units.h"

namespace loadcell {

Result<LatencyDist> LatencyDist::Parse(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Error::InvalidArgument(
        fmt::format("invalid latency distribution \"{}\": {} (expected fixed:20ms, uniform:5ms..50ms, normal:20ms,5ms, "
                    "lognormal:20ms,0.5 or exp:20ms)",
                    text, why));
  };
  LatencyDist d;
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return bad("missing ':'");
  std::string_view kind = text.substr(0, colon);
  std::string_view args = text.substr(colon + 1);
  auto dur = [&](std::string_view s, double* out) -> bool {
    auto r = ParseDuration(s);
    if (!r.ok()) return false;
    *out = static_cast<double>(*r);
    return true;
  };
  if (kind == "fixed") {
    d.kind_ = Kind::kFixed;
    if (!dur(args, &d.a_)) return bad("bad duration");
  } else if (kind == "uniform") {
    d.kind_ = Kind::kUniform;
    size_t dots = args.find("..");
    if (dots == std::string_view::npos || !dur(args.substr(0, dots), &d.a_) || !dur(args.substr(dots + 2), &d.b_)) {
      return bad("expected LOW..HIGH");
    }
    if (d.b_ < d.a_) return bad("HIGH is below LOW");
  } else if (kind == "normal" || kind == "lognormal") {
    d.kind_ = kind == "normal" ? Kind::kNormal : Kind::kLogNormal;
    size_t comma = args.find(',');
    if (comma == std::string_view::npos || !dur(args.substr(0, comma), &d.a_)) return bad("expected CENTER,SPREAD");
    std::string_view spread = args.substr(comma + 1);
    if (d.kind_ == Kind::kNormal) {
      if (!dur(spread, &d.b_)) return bad("bad standard deviation");
    } else {
      auto s = ParsePositiveNumber(spread);
      if (!s.ok()) return bad("sigma must be a positive number");
      d.b_ = *s;
    }
  } else if (kind == "exp") {
    d.kind_ = Kind::kExp;
    if (!dur(args, &d.a_)) return bad("bad mean");
  } else {
    return bad("unknown kind");
  }
  return d;
}

Nanos LatencyDist::Sample(std::mt19937_64& rng) const {
  double v = 0;
  switch (kind_) {
    case Kind::kNone: return 0;
    case Kind::kFixed: v = a_; break;
    case Kind::kUniform: v = std::uniform_real_distribution<double>(a_, b_)(rng); break;
    case Kind::kNormal: v = std::normal_distribution<double>(a_, b_)(rng); break;
    case Kind::kLogNormal: v = a_ * std::exp(std::normal_distribution<double>(0, b_)(rng)); break;
    case Kind::kExp: v = std::exponential_distribution<double>(1.0 / std::max(a_, 1.0))(rng); break;
  }
  return static_cast<Nanos>(std::max(0.0, v));
}

Result<StallSpec> StallSpec::Parse(std::string_view text) {
  size_t slash = text.find('/');
  auto bad = [&](const char* why) {
    return Error::InvalidArgument(
        fmt::format("invalid stall \"{}\": {} (expected LENGTH/PERIOD, like 1s/10s)", text, why));
  };
  if (slash == std::string_view::npos) return bad("missing '/'");
  auto len = ParseDuration(text.substr(0, slash));
  auto period = ParseDuration(text.substr(slash + 1));
  if (!len.ok() || !period.ok()) return bad("bad duration");
  if (*period <= 0 || *len <= 0 || *len >= *period) return bad("LENGTH must be positive and shorter than PERIOD");
  return StallSpec{*len, *period};
}

Nanos StallSpec::Release(Nanos t) const {
  if (none()) return t;
  Nanos phase = t % period;
  return phase < length ? t - phase + length : t;
}

}  // namespace loadcell
