// A worker thread that runs virtual users: light state machines on the worker's epoll
// loop (never threads), each with its own keep-alive connection, variables and RNG. The
// worker also runs the executors' schedules for its share of each scenario's VUs and
// arrivals, and records every sample into its own MetricStore (merged at the end), the core ones
// also into a per-second store handed to the coordinator.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/active_step.h"
#include "engine/executor_runner.h"
#include "engine/h2_pool.h"
#include "engine/interval_sink.h"
#include "engine/live_aggregates.h"
#include "engine/run_plan.h"
#include "engine/series_cache.h"
#include "engine/start_gate.h"
#include "metrics/metric_store.h"
#include "metrics/recorder.h"
#include "net/poller.h"
#include "protocol/http1/h1_client.h"
#include "protocol/postgres/pg_pool.h"
#include "script/lua_host.h"

namespace loadcell {

struct VuWorkerStats {
  int64_t vus_max = 0;                // VUs this worker created
  int64_t interrupted = 0;            // iterations cut at graceful_stop
  int64_t render_failures = 0;        // iterations ended because a template could not render
  std::vector<std::string> messages;  // once-only notes (data exhausted, first render error)
  SetupData vars;                     // TestPlan::keep_vars: the last iteration's variables
  int64_t completed = 0;              // iterations that ran to their end
};

class VuWorker final : private IterationHost {
 public:
  // `stop`: start no new iteration (interrupted, or a threshold aborted the test);
  // `force`: also cut the running ones now (a second Ctrl-C).
  VuWorker(const TestPlan& plan, int index, StartGate& gate, const std::atomic<bool>& stop,
           const std::atomic<bool>& force, LiveAggregates* live, IntervalSink* intervals);
  ~VuWorker();
  VuWorker(const VuWorker&) = delete;
  VuWorker& operator=(const VuWorker&) = delete;

  void Run();
  const MetricStore& store() const { return store_; }
  // VUs inside an iteration, refreshed by the worker every 100 ms; read by the coordinator.
  int64_t active_vus() const { return active_vus_.load(std::memory_order_relaxed); }
  // The same per scenario (index in the test's scenarios).
  int64_t active_vus(size_t scenario) const {
    return scenario < scenarios_ ? active_by_scenario_[scenario].load(std::memory_order_relaxed) : 0;
  }
  const VuWorkerStats& stats() const { return stats_; }
  Nanos start() const { return start_; }

 private:
  struct Vu;
  friend struct Vu;

  void OpenPools();
  void Preconnect();  // quick -R: the VUs' connections, before the start
  // IterationHost: what the executors (runner_) ask of the worker.
  VuSlot& NewVu(Executor& e, int64_t index, int64_t id) override;  // owned by vus_
  void StartIteration(VuSlot& vu, Nanos now, Nanos scheduled) override;
  void Interrupt(VuSlot& vu) override;  // cut a running iteration (graceful stop or ramp-down over)
  void WakeForBackoff(VuSlot& vu, Nanos at) override;
  void Dropped(Executor& e) override;
  void Delayed(Executor& e) override;
  void Unsent(Executor& e) override;  // a queued arrival that was never sent: a timed-out request
  void Advance(Vu& vu, Nanos now);
  void EndIteration(Vu& vu, Nanos now, bool completed);
  void SendRequest(Vu& vu, Nanos now);  // onto the VU's connection, after any fault's hold
  void OnEvent(Vu& vu, uint32_t events, Nanos now);
  void CountBytes(Vu& vu, int64_t sent, int64_t received);
  size_t ReadAllowance(Vu& vu, Nanos now);  // a bandwidth fault's budget (0: paused until a timer)
  void Complete(Vu& vu, Nanos now);
  void FailRequest(Vu& vu, Failure kind, Nanos now);
  void Sleep(Vu& vu, Nanos until, bool for_step);  // a think, or a protocol step's wake-up
  void StartWs(Vu& vu, const WsStep& step, Nanos now);
  void StepDone(Vu& vu, Nanos now, bool end_iteration);
  void StartSql(Vu& vu, const SqlStep& step, Nanos now);
  // vu_flow.cc: the Lua steps. False when the step failed (the iteration has ended).
  bool RunIf(Vu& vu, const IfStep& step, Nanos now);
  bool EnterWhile(Vu& vu, const WhileStep& step, Nanos now);
  bool RepeatWhile(Vu& vu, Nanos now);  // at the end of a while's pass: again?
  bool RunRecord(Vu& vu, const RecordStep& step, Nanos now);
  void RunSet(Vu& vu, const SetStep& step);
  void ScriptFailed(Vu& vu, const Error& error, Nanos now);  // ends the iteration
  // A Lua error, counted per message in script_errors (at most kMaxInstances messages).
  void CountScriptError(const Vu& vu, const std::string& message);
  void RenderScenarioTags(Vu& vu);  // the scenario's tags for this VU (and iteration)
  H2Pool& H2PoolFor(int origin);
  // Origins: the plan's (resolved at load), then those that templated URLs rendered to
  // during this run (resolved on first use, on this worker).
  const Origin& OriginAt(int index) const;
  const http1::H1Target& H1TargetAt(int origin);  // made on first use, kept for the connections
  Result<int> OriginFor(const Url& url);
  void RenderFailed(Vu& vu, const Error& error, Nanos now);  // the request's template could not render
  void StartH2(Vu& vu, Nanos now);                           // faults first, then SendH2
  void SendH2(Vu& vu, Nanos now);                            // onto a pooled connection, after any fault's hold
  ActiveFaults FaultsOn(const Vu& vu, Nanos now) const;
  FaultDecision DecideFaultFor(Vu& vu, Nanos now) const;
  void HoldForFault(Vu& vu, Nanos until);  // a latency fault: the request waits until `until`
  void H2Done(H2Pool::Request& r, uint32_t code, std::optional<Failure> failure, Nanos now);
  void AbandonH2(Vu& vu);
  // `collector`: the response's headers and body (set when the request has checks or captures).
  void RecordResponse(Vu& vu, int status, const ResponseCollector* collector, const http1::H1Timings& t, Nanos now);
  // The value of the request's `tag_from` in this response ("none" without one), one of a
  // bounded set ("other" past it); the reference stays valid (a set's nodes are stable).
  const std::string& InstanceOf(const RequestStep& req, int status, const ResponseCollector& collector);
  void Note(const std::string& key, const std::string& message);
  Nanos NextWake(Nanos now) const;

  const TestPlan& plan_;
  int index_;
  StartGate& gate_;
  const std::atomic<bool>& interrupted_;
  const std::atomic<bool>& force_;
  LiveAggregates* live_;
  IntervalSink* intervals_;
  Poller poller_;
  MonotonicClock clock_;  // the worker's and its executors' one clock (a final class: calls are direct)
  ExecutorRunner runner_;
  std::vector<std::unique_ptr<Vu>> vus_;  // every VU of every scenario on this worker
  std::vector<int> unsent_base_;          // per scenario: its own tags in series_ (-1: not yet)
  std::vector<char> buf_;
  http1::H1Env h1_env_{&poller_, plan_.tls.get(), &buf_};  // what the VUs' connections share
  MetricStore store_;
  MetricStore interval_;  // core metrics of the current second, for the series
  Recorder rec_{&store_, &interval_};
  SeriesCache series_{&store_, &interval_};
  std::vector<std::unique_ptr<ActiveStep>> retired_;  // steps that ended during this event batch
  std::set<std::string> noted_;
  static constexpr size_t kMaxInstances = 64;
  std::set<std::string> instances_;        // tag_from values seen
  std::set<std::string> script_messages_;  // script_errors' messages seen
  std::unique_ptr<script::LuaHost> lua_;   // tests with Lua: the worker's state
  bool instances_overflow_ = false;
  std::vector<std::unique_ptr<pg::PgPool>> pools_;  // per database of the test
  std::vector<std::unique_ptr<H2Pool>> h2_pools_;   // per origin, HTTP/2 tests only (made on first use)
  std::deque<Origin> rendered_origins_;             // indexes from plan_.origins.size() on
  std::deque<http1::H1Target> h1_targets_;          // per origin, as H1Client keeps them
  VuWorkerStats stats_;
  const RequestStep* last_req_ = nullptr;  // the request HttpStep::Start saw last, its builder and origin
  const RequestBuilder* last_builder_ = nullptr;
  int last_origin_ = -1;
  Nanos start_ = 0;
  Nanos next_publish_ = 0;  // end of the current interval
  struct Timer {
    Nanos at;
    Vu* vu;
    uint64_t seq;
    bool operator>(const Timer& o) const { return at > o.at; }
  };
  std::vector<Timer> timers_;  // min-heap
  std::atomic<int64_t> active_vus_{0};
  size_t scenarios_ = 0;
  std::unique_ptr<std::atomic<int64_t>[]> active_by_scenario_;
  uint64_t timer_seq_ = 0;
};

}  // namespace loadcell
