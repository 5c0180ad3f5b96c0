// Lines the workers up before a run: each reports ready (in the open model, once its
// connections are established), and all of them then start from one common instant, so
// the first arrivals of the schedule do not queue behind a connect storm. Used once per
// run, never on the request path.
#pragma once

#include <condition_variable>
#include <mutex>

#include "common/clock.h"

namespace loadcell {

class StartGate {
 public:
  explicit StartGate(int workers) : waiting_(workers) {}

  // Worker: my connections are up (or failed); then block until the start is known.
  Nanos ReadyAndWait() {
    std::unique_lock<std::mutex> lock(mu_);
    if (--waiting_ == 0) cv_.notify_all();
    cv_.wait(lock, [&] { return opened_; });
    return start_;
  }

  // Coordinator: wait for every worker, then release them all to start at `now() + lead`.
  template <typename NowFn>
  Nanos OpenWhenReady(NowFn now, Nanos lead) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return waiting_ == 0; });
    start_ = now() + lead;
    opened_ = true;
    cv_.notify_all();
    return start_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_;
  bool opened_ = false;
  Nanos start_ = 0;
};

}  // namespace loadcell
