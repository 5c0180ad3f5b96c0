// The timing of k6's executors as pure functions of time, so that every schedule is
// tested on simulated time with exact counts:
//
// - ArrivalSchedule: when ramping-arrival-rate starts iteration i (0-based). The rate is
//   piecewise linear; iteration i starts when the integral of the rate reaches i + 1, the
//   last one possibly exactly at the end, as in k6. (constant-arrival-rate starts its
//   first iteration at t = 0: ConstantRateSchedule.)
// - VuSchedule: how many VUs the closed executors (constant- and ramping-vus) want at time
//   t, as the list of instants where that number changes.
//
// Times are offsets from the scenario's start.
#pragma once

#include <cstdint>
#include <vector>

#include "common/clock.h"
#include "load/execution_segment.h"

namespace loadcell {

struct RateStage {
  Nanos duration = 0;
  double target = 0;  // iterations per time_unit at the end of the stage
};

class ArrivalSchedule {
 public:
  // start_rate and targets are per `time_unit`. A constant rate is one stage whose
  // target equals start_rate. Worker w of n takes iterations i with i % n == w; with a
  // `segment`, i numbers this generator's iterations (the whole test's GlobalIndex(i)).
  ArrivalSchedule(double start_rate, Nanos time_unit, std::vector<RateStage> stages, int worker = 0, int workers = 1,
                  const ExecutionSegment* segment = nullptr);

  bool done() const { return done_; }
  Nanos next() const { return next_; }      // offset of this worker's next iteration
  int64_t index() const { return index_; }  // its global iteration number
  void Advance();
  Nanos total_duration() const { return total_; }
  // How many iterations the whole schedule (all workers) starts: the floor of the integral
  // of the rate, found by walking the schedule.
  static int64_t CountAll(double start_rate, Nanos time_unit, const std::vector<RateStage>& stages);

 private:
  // The offset at which the cumulative count reaches `n`, or -1 past the end.
  Nanos TimeOf(double n) const;

  struct Segment {
    Nanos start, duration;
    double r0, r1;        // iterations per ns at the segment's ends
    double count_before;  // cumulative iterations at its start
  };
  std::vector<Segment> segments_;
  Nanos total_ = 0;
  int64_t Global(int64_t k) const { return segment_ == nullptr ? k : segment_->GlobalIndex(k); }
  int workers_;
  const ExecutionSegment* segment_;
  int64_t local_;
  int64_t index_;
  Nanos next_ = 0;
  bool done_ = false;
};

struct VuStep {
  Nanos at = 0;
  int64_t vus = 0;  // wanted from `at` on
};

// constant-vus: {0, vus} then {duration, 0}.
std::vector<VuStep> ConstantVus(int64_t vus, Nanos duration);
// ramping-vus (k6): VUs change one at a time, evenly spread over each stage.
std::vector<VuStep> RampingVus(int64_t start_vus, const std::vector<RateStage>& stages);

}  // namespace loadcell
