#include "load/constant_rate.h"

#include <cmath>

namespace loadcell {

ConstantRateSchedule::ConstantRateSchedule(Nanos start, Nanos end, double rate, int worker, int workers,
                                           const ExecutionSegment* segment)
    : start_(start),
      end_(end),
      // A rate that is not a positive finite number schedules nothing (validation refuses
      // it; this keeps a schedule that slipped through from spinning on NaN times).
      ns_per_arrival_(rate > 0 && std::isfinite(rate) ? 1e9 / rate : INFINITY),
      workers_(workers),
      segment_(segment != nullptr && !segment->whole() ? segment : nullptr),
      local_(worker),
      index_(Global(worker)),
      next_(TimeOf(index_)) {}

// Computed from the index each time, never by adding intervals: no drift after millions.
Nanos ConstantRateSchedule::TimeOf(int64_t i) const {
  double offset = static_cast<double>(i) * ns_per_arrival_;
  if (!(offset < static_cast<double>(end_ - start_))) return end_;  // past the end, NaN and infinity included
  return start_ + static_cast<Nanos>(std::llround(offset));
}

void ConstantRateSchedule::Advance() {
  local_ += workers_;
  index_ = Global(local_);
  next_ = TimeOf(index_);
}

int ConstantRateSchedule::TakeDue(Nanos now, std::deque<Nanos>& queue) {
  int n = 0;
  while (!done() && next_ <= now) {
    queue.push_back(next_);
    Advance();
    ++n;
  }
  return n;
}

}  // namespace loadcell
