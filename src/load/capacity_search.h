// The load policy of `executor: capacity-search`: which arrival rate to try next, given
// whether the last one kept every threshold passing. Doubles the rate from start_rate
// while steps pass (up to max_rate), then bisects between the last passing and the first
// failing rate until they are within 2 % of each other — never below min_rate: when
// min_rate fails too, no rate passes. Pure: the engine runs the steps.
#pragma once

#include <string>
#include <vector>

namespace loadcell {

class CapacitySearch {
 public:
  // min_rate <= 0: start_rate / 16.
  CapacitySearch(double start_rate, double max_rate, double converge = 0.02, int max_steps = 30, double min_rate = 0);

  bool done() const { return done_; }
  double next() const { return next_; }  // the rate of the next step (valid while !done())
  // The step at next() passed (every threshold held) or not; `generator_limited` ends the
  // search (loadcell itself could not produce the rate).
  void Report(bool passed, bool generator_limited = false);

  bool found() const { return best_ > 0; }
  double best() const { return best_; }            // highest passing rate
  const std::string& why() const { return why_; }  // how the search ended

 private:
  double max_rate_, converge_, min_rate_;
  int max_steps_, steps_ = 0;
  double next_, best_ = 0, lo_ = 0, hi_ = 0;
  bool bisecting_ = false, done_ = false;
  std::string why_;
};

}  // namespace loadcell
