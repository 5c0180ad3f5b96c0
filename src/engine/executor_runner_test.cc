// The executors on simulated time: a host whose iterations take a set time, a FakeClock
// moved from one due event to the next, and exact counts (no wall clock, no sockets).
#include "engine/executor_runner.h"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <vector>

namespace loadcell {
namespace {

constexpr Nanos kMs = kMilli;

struct SimVu : VuSlot {
  Nanos ends_at = 0;
  Nanos backoff_until = 0;
  bool fails = false;  // every iteration fails to reach its target: the host backs off
};

// Iterations take `length(vu)`; the host ends them (completed) when that time comes.
class SimHost final : public IterationHost {
 public:
  std::function<Nanos(const SimVu&)> length = [](const SimVu&) { return 100 * kMs; };
  std::deque<SimVu> vus;
  int64_t started = 0, completed = 0, interrupted = 0, dropped = 0, delayed = 0, unsent = 0;
  std::vector<Nanos> lags;  // now - scheduled, per started iteration

  VuSlot& NewVu(Executor& e, int64_t index, int64_t id) override {
    SimVu& v = vus.emplace_back();
    v.exec = &e;
    v.index = index;
    v.id = id;
    return v;
  }
  void StartIteration(VuSlot& slot, Nanos now, Nanos scheduled) override {
    auto& v = static_cast<SimVu&>(slot);
    v.busy = true;
    v.state = VuSlot::State::kThinking;
    ++v.iteration;
    v.ends_at = now + length(v);
    ++started;
    lags.push_back(now - scheduled);
  }
  void Interrupt(VuSlot& slot) override {
    slot.busy = false;
    slot.state = VuSlot::State::kIdle;
    slot.ramp_down_at = 0;
    ++interrupted;
  }
  void WakeForBackoff(VuSlot& slot, Nanos at) override { static_cast<SimVu&>(slot).backoff_until = at; }
  void Dropped(Executor&) override { ++dropped; }
  void Delayed(Executor&) override { ++delayed; }
  void Unsent(Executor&) override { ++unsent; }
};

struct Sim {
  std::vector<ScenarioDef> scenarios;
  ExecutionSegment segment;
  std::unique_ptr<std::atomic<int64_t>[]> shared;
  std::atomic<bool> stop{false}, force{false};
  FakeClock clock{0};
  SimHost host;
  std::unique_ptr<ExecutorRunner> runner;

  explicit Sim(std::vector<ScenarioDef> s, Nanos queue_expiry = 60 * kSecond, int worker = 0, int workers = 1)
      : scenarios(std::move(s)), shared(std::make_unique<std::atomic<int64_t>[]>(scenarios.size())) {
    RunnerSetup setup{&scenarios, &segment, worker, workers, shared.get(), queue_expiry};
    runner = std::make_unique<ExecutorRunner>(setup, host, clock, stop, force);
    runner->SetUp();
    runner->Start(0);
  }

  // Runs until every executor is over (bounded: `limit` of simulated time). `at` runs
  // once, the first time simulated time reaches its moment.
  void Run(Nanos limit = 3600 * kSecond, Nanos at = -1, const std::function<void()>& then = {}) {
    for (;;) {
      Nanos now = clock.Now();
      if (at >= 0 && now >= at) {
        then();
        at = -1;
      }
      for (SimVu& v : host.vus) {
        if (v.busy && v.ends_at <= now) {
          ++host.completed;
          v.state = VuSlot::State::kIdle;
          runner->IterationEnded(v, now, true, v.fails ? 50 * kMs : 0);
        }
        if (v.state == VuSlot::State::kBackoff && v.backoff_until <= now) runner->BackoffOver(v, now);
      }
      runner->Tick();
      if (runner->finished()) return;
      ASSERT_LT(now, limit) << "the executors never finished";
      Nanos next = runner->NextWake(now, 10 * kMs);
      for (const SimVu& v : host.vus) {
        if (v.busy) next = std::min(next, v.ends_at);
        if (v.state == VuSlot::State::kBackoff) next = std::min(next, v.backoff_until);
      }
      if (at >= 0) next = std::min(next, at);
      clock.Set(std::max(next, now + 1));
    }
  }
};

ScenarioDef Scenario(ExecutorKind kind) {
  ScenarioDef d;
  d.name = "s";
  d.executor = kind;
  return d;
}

TEST(ExecutorRunner, ConstantVusRunsWholeIterationsUntilTheEnd) {
  ScenarioDef d = Scenario(ExecutorKind::kConstantVus);
  d.vus = 2;
  d.duration = kSecond;
  Sim sim({d});
  sim.Run();
  // Iterations of 100 ms from 0 to 900 ms on each VU; the ones ending at 1 s start no more.
  EXPECT_EQ(sim.host.started, 20);
  EXPECT_EQ(sim.host.completed, 20);
  EXPECT_EQ(sim.host.interrupted, 0);
  EXPECT_EQ(sim.clock.Now(), kSecond);
}

TEST(ExecutorRunner, GracefulStopLetsAnIterationFinishThenCutsIt) {
  ScenarioDef d = Scenario(ExecutorKind::kConstantVus);
  d.vus = 1;
  d.duration = kSecond;
  d.graceful_stop = 500 * kMs;
  {
    Sim sim({d});
    sim.host.length = [](const SimVu&) { return 300 * kMs; };
    sim.Run();
    // 0, 300, 600, 900: the last ends at 1.2 s, within the graceful stop.
    EXPECT_EQ(sim.host.completed, 4);
    EXPECT_EQ(sim.host.interrupted, 0);
  }
  d.graceful_stop = 100 * kMs;
  Sim sim({d});
  sim.host.length = [](const SimVu&) { return 300 * kMs; };
  sim.Run();
  // The one started at 900 ms would end at 1.2 s: cut at 1.1 s.
  EXPECT_EQ(sim.host.completed, 3);
  EXPECT_EQ(sim.host.interrupted, 1);
  EXPECT_EQ(sim.clock.Now(), 1100 * kMs);
}

TEST(ExecutorRunner, PerVuIterationsRunsExactlyThatMany) {
  ScenarioDef d = Scenario(ExecutorKind::kPerVuIterations);
  d.vus = 3;
  d.iterations = 4;
  Sim sim({d});
  sim.host.length = [](const SimVu& v) { return (v.index + 1) * 10 * kMs; };
  sim.Run();
  EXPECT_EQ(sim.host.completed, 12);
  for (const SimVu& v : sim.host.vus) EXPECT_EQ(v.iterations_done, 4);
  EXPECT_EQ(sim.clock.Now(), 120 * kMs);  // the slowest VU: 4 x 30 ms
}

TEST(ExecutorRunner, SharedIterationsAddUpWhateverEachVuTakes) {
  ScenarioDef d = Scenario(ExecutorKind::kSharedIterations);
  d.vus = 3;
  d.iterations = 10;
  Sim sim({d});
  sim.host.length = [](const SimVu& v) { return (v.index + 1) * 10 * kMs; };
  sim.Run();
  EXPECT_EQ(sim.host.completed, 10);
  // The fastest VU takes the most: 10 ms iterations against 20 and 30 ms.
  EXPECT_GT(sim.host.vus[0].iterations_done, sim.host.vus[2].iterations_done);
}

TEST(ExecutorRunner, SharedIterationsEndAtMaxDuration) {
  ScenarioDef d = Scenario(ExecutorKind::kSharedIterations);
  d.vus = 1;
  d.iterations = 100;
  d.max_duration = 250 * kMs;
  d.graceful_stop = 0;
  Sim sim({d});
  sim.Run();
  // 0, 100, 200 start; the one at 200 would end at 300 ms, past the end: cut.
  EXPECT_EQ(sim.host.started, 3);
  EXPECT_EQ(sim.host.completed, 2);
  EXPECT_EQ(sim.host.interrupted, 1);
}

TEST(ExecutorRunner, ConstantArrivalRateDropsWhatNoFreeVuCanTake) {
  ScenarioDef d = Scenario(ExecutorKind::kConstantArrivalRate);
  d.rate = 10;
  d.duration = kSecond;
  d.pre_allocated_vus = 1;
  d.max_vus = 1;
  Sim sim({d});
  sim.host.length = [](const SimVu&) { return 250 * kMs; };
  sim.Run();
  // Arrivals every 100 ms from 0: the one VU takes 0, 300, 600 and 900 ms.
  EXPECT_EQ(sim.host.started, 4);
  EXPECT_EQ(sim.host.dropped, 6);
  for (Nanos lag : sim.host.lags) EXPECT_EQ(lag, 0);
}

TEST(ExecutorRunner, ArrivalRateAddsVusUpToMaxVus) {
  ScenarioDef d = Scenario(ExecutorKind::kConstantArrivalRate);
  d.rate = 10;
  d.duration = kSecond;
  d.pre_allocated_vus = 1;
  d.max_vus = 3;
  Sim sim({d});
  sim.host.length = [](const SimVu&) { return 250 * kMs; };
  sim.Run();
  EXPECT_EQ(sim.host.vus.size(), 3u);  // three 250 ms iterations overlap at 100 ms arrivals
  EXPECT_EQ(sim.host.started, 10);
  EXPECT_EQ(sim.host.dropped, 0);
}

TEST(ExecutorRunner, QueuedArrivalsWaitAndExpire) {
  ScenarioDef d = Scenario(ExecutorKind::kConstantArrivalRate);
  d.rate = 10;
  d.duration = kSecond;
  d.pre_allocated_vus = 1;
  d.max_vus = 1;
  d.queue_arrivals = true;
  d.graceful_stop = 0;
  Sim sim({d}, /*queue_expiry=*/300 * kMs);
  sim.host.length = [](const SimVu&) { return 150 * kMs; };
  sim.Run();
  // One VU, 150 ms per iteration, an arrival every 100 ms: the queue grows by one every
  // 300 ms. Nothing is dropped; each late start carries its wait as its lag.
  EXPECT_EQ(sim.host.dropped, 0);
  EXPECT_GT(sim.host.delayed, 0);
  EXPECT_EQ(sim.host.started + sim.host.unsent, 10);
  EXPECT_GT(sim.host.unsent, 0);
  Nanos max_lag = 0;
  for (Nanos lag : sim.host.lags) max_lag = std::max(max_lag, lag);
  EXPECT_GT(max_lag, 0);
  EXPECT_LT(max_lag, 300 * kMs);  // an arrival that waited 300 ms fails unsent instead
}

TEST(ExecutorRunner, RampingArrivalRateFollowsItsStages) {
  ScenarioDef d = Scenario(ExecutorKind::kRampingArrivalRate);
  d.start_rate = 0;
  d.stages = {{kSecond, 10}, {kSecond, 10}};
  d.pre_allocated_vus = 5;
  d.max_vus = 5;
  Sim sim({d});
  sim.host.length = [](const SimVu&) { return 10 * kMs; };
  sim.Run();
  // 0 → 10/s over a second (5 arrivals), then 10/s for a second (10).
  EXPECT_EQ(sim.host.started, 15);
  EXPECT_EQ(sim.host.dropped, 0);
}

TEST(ExecutorRunner, RampDownLetsIterationsFinishWithinGracefulRampDown) {
  ScenarioDef d = Scenario(ExecutorKind::kRampingVus);
  d.start_vus = 2;
  d.stages = {{kSecond, 2}, {0, 1}, {kSecond, 1}};  // VU 1 is ramped down at 1 s, VU 0 at 2 s
  d.graceful_ramp_down = 100 * kMs;
  d.graceful_stop = 0;
  {
    Sim sim({d});
    sim.host.length = [](const SimVu&) { return 450 * kMs; };
    sim.Run();
    // VU 1 runs 0, 450 and 900 ms; the last would end at 1.35 s: cut at 1.1 s. VU 0 runs
    // 0, 450, 900, 1350 and 1800 ms; the last would end at 2.25 s: cut at 2.1 s.
    EXPECT_EQ(sim.host.vus[1].iterations_done, 2);
    EXPECT_EQ(sim.host.vus[0].iterations_done, 4);
    EXPECT_EQ(sim.host.interrupted, 2);
    EXPECT_EQ(sim.clock.Now(), 2100 * kMs);
  }
  d.graceful_ramp_down = 400 * kMs;
  Sim sim({d});
  sim.host.length = [](const SimVu&) { return 450 * kMs; };
  sim.Run();
  // 400 ms is enough for both last iterations (ending at 1.35 s and 2.25 s).
  EXPECT_EQ(sim.host.vus[1].iterations_done, 3);
  EXPECT_EQ(sim.host.vus[0].iterations_done, 5);
  EXPECT_EQ(sim.host.interrupted, 0);
}

TEST(ExecutorRunner, AFailingVuBacksOffBetweenIterations) {
  ScenarioDef d = Scenario(ExecutorKind::kConstantVus);
  d.vus = 1;
  d.duration = kSecond;
  Sim sim({d});
  sim.host.vus[0].fails = true;
  sim.Run();
  // 100 ms iterations with a 50 ms wait after each: at 0, 150, ..., 900 ms.
  EXPECT_EQ(sim.host.started, 7);
}

TEST(ExecutorRunner, StopStartsNothingNewAndForceCutsWhatRuns) {
  ScenarioDef d = Scenario(ExecutorKind::kConstantVus);
  d.vus = 2;
  d.duration = 10 * kSecond;
  {
    Sim sim({d});
    sim.host.length = [](const SimVu&) { return 300 * kMs; };
    sim.Run(3600 * kSecond, 1000 * kMs, [&] { sim.stop = true; });
    // Started at 0, 300, 600, 900 each; the ones from 900 ms finish at 1.2 s.
    EXPECT_EQ(sim.host.started, 8);
    EXPECT_EQ(sim.host.completed, 8);
    EXPECT_EQ(sim.host.interrupted, 0);
  }
  Sim sim({d});
  sim.host.length = [](const SimVu&) { return 300 * kMs; };
  sim.Run(3600 * kSecond, 1000 * kMs, [&] {
    sim.stop = true;
    sim.force = true;
  });
  EXPECT_EQ(sim.host.completed, 6);
  EXPECT_EQ(sim.host.interrupted, 2);
  EXPECT_EQ(sim.clock.Now(), 1000 * kMs);
}

TEST(ExecutorRunner, WorkersShareVusAndIdsStayTheTests) {
  ScenarioDef a = Scenario(ExecutorKind::kConstantVus);
  a.vus = 5;
  a.duration = 100 * kMs;
  ScenarioDef b = a;
  b.name = "b";
  b.vus = 3;
  Sim w1({a, b}, 60 * kSecond, 1, 2);
  std::vector<int64_t> ids;
  for (const SimVu& v : w1.host.vus) ids.push_back(v.id);
  // Worker 1 of 2 takes VUs 1 and 3 of a (ids 2, 4) and VU 1 of b (ids after a's 5: 7).
  EXPECT_EQ(ids, (std::vector<int64_t>{2, 4, 7}));
}

}  // namespace
}  // namespace loadcell
