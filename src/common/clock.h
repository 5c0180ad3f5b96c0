// Time as the engine sees it. Everything that paces or times load reads the clock
// through Clock so that schedules can be tested on simulated time.
//
// Times are nanoseconds on a monotonic clock; only differences are meaningful.
#pragma once

#include <cstdint>
#include <ctime>

namespace loadcell {

using Nanos = int64_t;

constexpr Nanos kMicro = 1000;
constexpr Nanos kMilli = 1000 * kMicro;
constexpr Nanos kSecond = 1000 * kMilli;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Nanos Now() const = 0;
};

// CLOCK_MONOTONIC: never jumps, shared by all threads, so intended send times computed on
// one thread compare with readings on another.
class MonotonicClock final : public Clock {
 public:
  Nanos Now() const override { return ReadNow(); }
  static Nanos ReadNow() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<Nanos>(ts.tv_sec) * kSecond + ts.tv_nsec;
  }
};

// A clock the test moves by hand.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Nanos start = 0) : now_(start) {}
  Nanos Now() const override { return now_; }
  void Set(Nanos t) { now_ = t; }
  void Advance(Nanos d) { now_ += d; }

 private:
  Nanos now_;
};

// Wall-clock time for run metadata (start/end stamps), never for measuring.
inline double WallSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace loadcell
