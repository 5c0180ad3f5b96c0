#include "load/capacity_search.h"

#include <algorithm>

#include <fmt/format.h>

namespace loadcell {

CapacitySearch::CapacitySearch(double start_rate, double max_rate, double converge, int max_steps, double min_rate)
    : max_rate_(max_rate),
      converge_(converge),
      min_rate_(std::min(min_rate > 0 ? min_rate : start_rate / 16, std::min(start_rate, max_rate))),
      max_steps_(max_steps),
      next_(std::min(start_rate, max_rate)) {}

void CapacitySearch::Report(bool passed, bool generator_limited) {
  if (done_) return;
  ++steps_;
  double rate = next_;
  if (passed) best_ = std::max(best_, rate);
  if (generator_limited) {
    done_ = true;
    why_ = fmt::format(
        "stopped at {:g}/s: the generator itself was the limit (dropped iterations or CPU), so higher "
        "rates cannot be measured from here",
        rate);
    return;
  }
  if (!bisecting_) {
    if (passed) {
      lo_ = rate;
      if (rate >= max_rate_) {
        done_ = true;
        why_ = fmt::format("max_rate {:g}/s passed: the capacity is at least that", max_rate_);
        return;
      }
      next_ = std::min(rate * 2, max_rate_);
    } else {
      hi_ = rate;
      bisecting_ = true;
    }
  } else if (passed) {
    lo_ = rate;
  } else {
    hi_ = rate;
  }
  if (bisecting_) {
    if (lo_ == 0 && hi_ <= min_rate_) {
      // The lowest rate allowed failed: there is no capacity to report.
      done_ = true;
      why_ = fmt::format("no passing rate found (failed at {:g}/s, the lowest allowed: min_rate)", hi_);
      return;
    }
    if (lo_ > 0 && hi_ - lo_ <= converge_ * hi_) {
      done_ = true;
      why_ = fmt::format("converged: {:g}/s passes, {:g}/s fails (within {:g}%)", lo_, hi_, 100 * converge_);
      return;
    }
    next_ = std::max((lo_ + hi_) / 2, min_rate_);
  }
  if (steps_ >= max_steps_) {
    done_ = true;
    why_ = lo_ > 0 ? fmt::format("stopped after {} steps between {:g}/s and {:g}/s", steps_, lo_, hi_)
                   : fmt::format("no passing rate found (stopped after {} steps; failed at {:g}/s)", steps_, hi_);
  }
}

}  // namespace loadcell
