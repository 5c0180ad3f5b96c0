#include "load/executor_schedule.h"

#include <cmath>

namespace loadcell {

ArrivalSchedule::ArrivalSchedule(double start_rate, Nanos time_unit, std::vector<RateStage> stages, int worker,
                                 int workers, const ExecutionSegment* segment)
    : workers_(workers),
      segment_(segment != nullptr && !segment->whole() ? segment : nullptr),
      local_(worker),
      index_(Global(worker)) {
  double per_ns = 1.0 / static_cast<double>(time_unit);
  double r = start_rate * per_ns;
  double count = 0;
  for (const RateStage& s : stages) {
    double r1 = s.target * per_ns;
    segments_.push_back({total_, s.duration, r, r1, count});
    count += (r + r1) / 2 * static_cast<double>(s.duration);
    total_ += s.duration;
    r = r1;
  }
  next_ = TimeOf(static_cast<double>(index_ + 1));
  done_ = next_ < 0;
}

Nanos ArrivalSchedule::TimeOf(double n) const {
  for (const Segment& s : segments_) {
    double seg_count = (s.r0 + s.r1) / 2 * static_cast<double>(s.duration);
    double k = n - s.count_before;
    // k6 includes the iteration whose area lands exactly on a stage's end.
    if (k > seg_count * (1 + 1e-12) + 1e-9) continue;
    // At the stage's end exactly: a ramp down to zero makes the quadratic ill-conditioned
    // there (its discriminant tends to 0), so the end is taken as is.
    if (std::abs(k - seg_count) <= seg_count * 1e-12 + 1e-9) return s.start + s.duration;
    double a = (s.r1 - s.r0) / (2 * static_cast<double>(s.duration));
    double t;
    if (std::abs(a) * static_cast<double>(s.duration) < 1e-15 * std::max(s.r0, 1e-30)) {
      t = k / s.r0;
    } else {
      // a t^2 + r0 t - k = 0, in the form that stays exact when a is tiny or negative.
      double disc = std::max(0.0, s.r0 * s.r0 + 4 * a * k);
      t = 2 * k / (s.r0 + std::sqrt(disc));
    }
    if (!std::isfinite(t) || t < 0) return -1;  // a broken rate (NaN, infinite) ends the schedule
    return s.start + std::min<Nanos>(std::llround(std::min(t, static_cast<double>(s.duration))), s.duration);
  }
  return -1;
}

void ArrivalSchedule::Advance() {
  local_ += workers_;
  index_ = Global(local_);
  next_ = TimeOf(static_cast<double>(index_ + 1));
  done_ = next_ < 0;
}

int64_t ArrivalSchedule::CountAll(double start_rate, Nanos time_unit, const std::vector<RateStage>& stages) {
  ArrivalSchedule s(start_rate, time_unit, stages);
  int64_t n = 0;
  while (!s.done()) {
    ++n;
    s.Advance();
  }
  return n;
}

std::vector<VuStep> ConstantVus(int64_t vus, Nanos duration) { return {{0, vus}, {duration, 0}}; }

std::vector<VuStep> RampingVus(int64_t start_vus, const std::vector<RateStage>& stages) {
  std::vector<VuStep> steps{{0, start_vus}};
  Nanos t = 0;
  auto from = start_vus;
  for (const RateStage& s : stages) {
    auto to = static_cast<int64_t>(s.target);
    if (s.duration == 0) {
      if (to != from) steps.push_back({t, to});
    } else if (to != from) {
      int64_t diff = to > from ? to - from : from - to;
      for (int64_t k = 1; k <= diff; ++k) {
        // The k-th change of the stage, evenly spaced; the last lands on the stage's end.
        Nanos at = t + static_cast<Nanos>(static_cast<long double>(s.duration) * k / diff);
        steps.push_back({at, to > from ? from + k : from - k});
      }
    }
    t += s.duration;
    from = to;
  }
  steps.push_back({t, 0});
  // Merge changes that land on the same instant (keep the last).
  std::vector<VuStep> merged;
  for (const VuStep& s : steps) {
    if (!merged.empty() && merged.back().at == s.at)
      merged.back() = s;
    else
      merged.push_back(s);
  }
  return merged;
}

}  // namespace loadcell
