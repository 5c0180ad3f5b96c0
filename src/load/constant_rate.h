// The open model's arrival schedule (wrk2's idea, done without accumulated sleeps):
// global arrival i is intended at start + i / rate on the monotonic clock, and worker w of
// n takes exactly the arrivals with i % n == w. The union over workers is the whole
// schedule, so the total rate is exact however many threads share it.
//
// Pure arithmetic on times: no clock reads, no I/O, so it is tested on simulated time.
#pragma once

#include <cstdint>
#include <deque>

#include "common/clock.h"
#include "load/execution_segment.h"

namespace loadcell {

class ConstantRateSchedule {
 public:
  // Arrivals in [start, end). rate is per second across all workers (and generators).
  // With a `segment`, this generator's workers take only the arrivals it owns: its k-th
  // arrival is the whole test's segment->GlobalIndex(k), and worker w takes k % n == w.
  ConstantRateSchedule(Nanos start, Nanos end, double rate, int worker, int workers,
                       const ExecutionSegment* segment = nullptr);

  bool done() const { return next_ >= end_; }
  Nanos next() const { return next_; }  // intended time of this worker's next arrival
  int64_t global_index() const { return index_; }
  void Advance();

  // Appends every arrival due at `now` (intended <= now) to `queue`; returns how many.
  int TakeDue(Nanos now, std::deque<Nanos>& queue);

 private:
  Nanos TimeOf(int64_t i) const;
  int64_t Global(int64_t k) const { return segment_ == nullptr ? k : segment_->GlobalIndex(k); }
  Nanos start_;
  Nanos end_;
  double ns_per_arrival_;
  int workers_;
  const ExecutionSegment* segment_;
  int64_t local_;  // among this generator's arrivals
  int64_t index_;  // among the whole test's
  Nanos next_;
};

}  // namespace loadcell
