// k6's executors for one worker's share of each scenario: which VU starts an iteration
// when, which iterations are dropped, delayed, cut at a ramp-down or at the graceful stop,
// and when a scenario is over. Load policy only: the runner knows VUs as slots and asks its
// host (the VU worker) to start and cut iterations; what an iteration does, and all I/O,
// are the host's. It reads time from a Clock, so its rules are tested on simulated time
// (executor_runner_test.cc) with exact counts.
//
// Threading: one worker thread; `stop` and `force` are set by any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "load/constant_rate.h"
#include "load/execution_segment.h"
#include "load/executor_schedule.h"
#include "scenario/definition.h"

namespace loadcell {

struct Executor;
class IterationHost;

// What the runner knows of a VU. The host's VU derives from it.
struct VuSlot {
  // kIdle: between iterations, or free (open executors). kBackoff: waiting to start the
  // next iteration (the host's timer calls BackoffOver). kStopped: will start no more.
  // The others are the host's, all inside an iteration.
  enum class State : uint8_t { kIdle, kHttp1, kThinking, kStep, kH2, kBackoff, kStopped, kFaultHeld };

  Executor* exec = nullptr;
  int64_t id = 0;     // k6's __VU: 1-based, unique in the test
  int64_t index = 0;  // 0-based within the scenario (ramping-vus activation order)
  int64_t iteration = -1;
  int64_t iterations_done = 0;
  Nanos ramp_down_at = 0;  // ramping-vus: cut the iteration at this time (0: not ramped down)
  State state = State::kIdle;
  bool busy = false;  // inside an iteration
};

// A scenario's executor, for this worker's share.
struct Executor {
  IterationHost* host = nullptr;  // who runs its iterations
  const ScenarioDef* def = nullptr;
  int scenario = 0;
  Nanos start = 0;     // absolute once the run has started
  Nanos end = 0;       // no iteration starts after this
  Nanos hard_end = 0;  // graceful stop over: iterations still running are interrupted
  std::vector<VuSlot*> vus;
  // Open executors: free VUs, handed out first-in first-out, so that every pre-allocated
  // VU takes its turn (last-in first-out kept a handful busy and the rest never ran).
  std::deque<VuSlot*> idle;
  std::deque<Nanos> queued;  // queue_arrivals: due arrivals waiting for a free VU (their intended times)
  int64_t max_vus = 0;       // open executors: this worker's share
  int64_t next_vu_index = 0;
  int64_t id_base = 0;  // VU ids of this scenario are id_base + 1 ...
  std::optional<ArrivalSchedule> ramp;
  std::optional<ConstantRateSchedule> constant;
  std::vector<VuStep> vu_steps;  // ramping-vus
  int64_t iterations = 0;        // shared-iterations: this generator's share
  int64_t wanted = 0;            // ramping-vus: VUs that may run now
  bool started = false;
  bool finished = false;
  bool open() const {
    return def->executor == ExecutorKind::kConstantArrivalRate || def->executor == ExecutorKind::kRampingArrivalRate;
  }
};

class IterationHost {
 public:
  // A new VU of `e` (its index and id set by the runner), owned by the host.
  virtual VuSlot& NewVu(Executor& e, int64_t index, int64_t id) = 0;
  // Starts an iteration on a VU that is not busy; `scheduled` is when it should have
  // started (open executors: its arrival), `now` when it does.
  virtual void StartIteration(VuSlot& vu, Nanos now, Nanos scheduled) = 0;
  // Cuts the VU's running iteration (ramp-down or graceful stop over, or a forced stop).
  virtual void Interrupt(VuSlot& vu) = 0;
  // Call BackoffOver(vu, at) at `at` (a newer call for the VU replaces an older one).
  virtual void WakeForBackoff(VuSlot& vu, Nanos at) = 0;
  // No VU was free for an arrival: dropped (k6), or queued (queue_arrivals).
  virtual void Dropped(Executor& e) = 0;
  virtual void Delayed(Executor& e) = 0;
  // A queued arrival that was never sent: it waited a whole request timeout, or the run
  // ended first. It counts as a timed-out request.
  virtual void Unsent(Executor& e) = 0;

 protected:
  ~IterationHost() = default;
};

struct RunnerSetup {
  const std::vector<ScenarioDef>* scenarios = nullptr;
  const ExecutionSegment* segment = nullptr;          // this generator's share of the test
  int worker = 0, workers = 1;                        // this worker of the generator's
  std::atomic<int64_t>* shared_iterations = nullptr;  // per scenario, shared by all workers
  Nanos queue_expiry = 0;                             // queue_arrivals: a wait this long fails the arrival
};

class ExecutorRunner {
 public:
  // `stop`: start no new iteration; `force`: also cut the running ones now.
  ExecutorRunner(const RunnerSetup& setup, IterationHost& host, const Clock& clock, const std::atomic<bool>& stop,
                 const std::atomic<bool>& force);

  // Before the start: the executors, on times relative to the start, and their first VUs.
  void SetUp();
  // At the start: times made absolute, arrival schedules begun.
  void Start(Nanos start);
  // Starts (and cuts) what is due now; at most kMaxArrivalsPerTick arrivals per call, so
  // that the host's loop comes back to its clock, timers and signals whatever the schedule.
  void Tick();
  // An iteration ended (`completed`: its flow ran to the end; `backoff`: how long the VU
  // waits before the next one, 0 for none). Closed executors start the next one now (or
  // after the back-off), open ones free the VU.
  void IterationEnded(VuSlot& vu, Nanos now, bool completed, Nanos backoff);
  // The back-off the host was asked to wake for is over.
  void BackoffOver(VuSlot& vu, Nanos now);
  // The scenario ends now (its data ran out): no VU starts another iteration.
  void Finish(Executor& e);
  // When the next thing is due (at most `now + max_wait`).
  Nanos NextWake(Nanos now, Nanos max_wait) const;
  bool finished() const;

  const std::vector<std::unique_ptr<Executor>>& executors() const { return execs_; }
  const Clock& clock() const { return clock_; }

  static constexpr int kMaxArrivalsPerTick = 1 << 16;

 private:
  void Tick(Executor& e, Nanos now);
  bool Continues(Executor& e, VuSlot& vu, Nanos now);
  VuSlot& AddVu(Executor& e, int64_t index);

  RunnerSetup setup_;
  IterationHost& host_;
  const Clock& clock_;
  const std::atomic<bool>& stop_;
  const std::atomic<bool>& force_;
  std::vector<std::unique_ptr<Executor>> execs_;
};

}  // namespace loadcell
