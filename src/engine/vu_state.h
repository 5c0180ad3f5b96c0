// VuWorker's own state, shared by its files and no one else: a virtual user (Vu) and a
// scenario's executor share on this worker (Exec). The worker's parts:
//   vu_worker.cc  the event loop and the executors (which VU starts an iteration when);
//   vu_flow.cc    the step interpreter (iterations, groups, loops, picks, ws and sql steps);
//   vu_http.cc    HTTP requests (HTTP/1.1 on the VU's connection, HTTP/2 on a pool), their
//                 faults and metrics;
//   vu_state.cc   what a VU's templates can read.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/rng.h"
#include "engine/vu_worker.h"
#include "load/constant_rate.h"
#include "load/executor_schedule.h"
#include "protocol/http1/h1_client.h"
#include "scenario/response_eval.h"

namespace loadcell {

// ---- a virtual user ----------------------------------------------------------------------
// A VU is also what `quick` calls a connection, so its size is the engine's memory per
// connection (`quick -c 10000`: 10,000 of them). What every VU needs is here; what only
// some flows need (variables, groups, loops, data rows, random draws, protocol steps,
// HTTP/2, faults) is in Extra, made the first time this VU needs it: a VU that repeats one
// static request never makes one.
struct VuWorker::Vu final : public TemplateContext, public http1::H1ClientEvents {
  // kHttp1: an HTTP/1.1 request is on the VU's connection (`http` has it).
  // kStep: a protocol step (WebSocket session, SQL query) runs; `extra->step` has it.
  // kH2: an HTTP/2 request waits on a pooled connection (`extra->h2`).
  // kBackoff: between iterations, after one in which every step failed (see EndIteration).
  // kFaultHeld: a request held by an injected fault (latency: until a timer; blackhole:
  // lost, until its timeout).
  enum class State : uint8_t { kIdle, kHttp1, kThinking, kStep, kH2, kBackoff, kStopped, kFaultHeld };
  // A list of steps being run: the scenario's flow (the root), a loop's body, a group's, a
  // pick's choice.
  struct Frame {
    const Steps* steps = nullptr;
    uint32_t next = 0, end = 0;
    const LoopStep* loop = nullptr;
    const GroupStep* group = nullptr;
    int64_t passes_left = 0;  // count loops: remaining passes after this one; while loops: max
    Nanos group_start = 0;
    uint32_t outer_group_size = 0;  // the group path outside this group is its prefix of this size
  };
  struct Extra;

  Vu(Exec& e, const http1::H1Env& env) : exec(&e), http(env, *this) {}
  ~Vu() override;

  VuWorker& worker() const;
  // Made on first use (seeded then: its RNG's stream depends on the VU's id only).
  Extra& X();
  const std::string& group() const;  // "::outer::inner" as k6 writes group paths ("" outside any)

  // The frame being run: the innermost.
  Frame& Top();
  void Push(const Frame& f);
  // Leaves the innermost frame; false when that was the root (the iteration's flow is over).
  bool Pop();
  void ClearFrames();  // no iteration runs

  Exec* exec;
  http1::H1Client http;  // the VU's own HTTP/1.1 connection
  Frame root;
  std::unique_ptr<Extra> extra;
  const RequestStep* req = nullptr;
  int64_t id = 0;     // k6's __VU: 1-based, unique in the test
  int64_t index = 0;  // 0-based within the scenario (ramping-vus activation order)
  int64_t iteration = -1;
  int64_t iterations_done = 0;
  uint64_t timer_seq = 0;  // the timer that may wake this VU (older ones are stale)
  Nanos iter_start = 0, lag = 0;
  Nanos backoff = 0;  // the wait before the next iteration (0: none)
  Nanos deadline = 0;
  // When the current request started, and when its duration counts from when a fault
  // held it (0: from its first byte written; the connection has the other phases).
  Nanos t_start = 0, sent = 0;
  int32_t iter_failures = 0;  // steps and requests in this iteration that could not reach their target
  int base_id = 0;            // scenario + rendered scenario tags, interned in the worker's SeriesCache
  int req_origin = -1;        // where the current request goes
  State state = State::kIdle;
  bool busy = false;         // inside an iteration
  bool iter_ok = false;      // ... and whether any step got through (an answer, or a failure the target caused)
  bool step_failed = false;  // the running protocol step reported a failure
  bool throttled = false;    // reading paused by a bandwidth fault until a timer
  bool rendered = false;     // the current request's bytes are extra->rendered (else the plan's)

  // TemplateContext
  bool Lookup(std::string_view name, std::string* out_value) const override;
  bool LookupTyped(std::string_view name, std::string* out_value, bool* json) const override;
  Xoshiro256& Rng() override;
  int64_t NowMs() const override {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  }
  // IoHandler: events of the VU's own HTTP connection.
  void OnIo(uint32_t events, Nanos now) override { worker().OnEvent(*this, events, now); }
  // H1ClientEvents
  void OnResponse(Nanos now) override { worker().Complete(*this, now); }
  void OnFailed(Failure failure, Nanos now) override {
    // Without a request (a connection opened ahead of the start that failed): nothing to
    // count; the first request connects again.
    if (state == State::kHttp1) worker().FailRequest(*this, failure, now);
  }
  void OnBytes(int64_t sent_bytes, int64_t received) override { worker().CountBytes(*this, sent_bytes, received); }
  void OnConnect() override { worker().series_.Vu(base_id, SeriesCache::VuMetric::kConnectionsOpened).Count(1); }
  size_t ReadAllowance(Nanos now) override { return worker().ReadAllowance(*this, now); }
};

struct VuWorker::Vu::Extra final : public StepOwner {
  Extra(Vu& owner, uint64_t seed, size_t feeders) : vu(owner), rows(feeders, -1), rng(seed) {}

  Vu& vu;
  std::vector<Frame> frames;  // inside the root
  std::string group;
  std::unordered_map<std::string, std::string> vars;
  std::unordered_set<std::string> json_vars;     // captured values that are JSON, not strings
  std::vector<int64_t> rows;                     // current row of each data feeder (-1: none yet)
  std::unique_ptr<ResponseCollector> collector;  // made for the first request with checks or captures
  // A rendered request's bytes, kept until the request ends: the connection writes from them.
  std::string rendered;
  Xoshiro256 rng;
  std::unique_ptr<ActiveStep> step;
  H2Pool::Request* h2 = nullptr;
  int h2_origin = -1;
  Nanos ramp_down_at = 0;  // ramping-vus: cut the iteration at this time (0: not ramped down)
  // A bandwidth fault: bytes received in the current 100 ms slice; reading paused until
  // the next slice when the slice's budget is spent.
  Nanos rx_slice = 0;
  int64_t rx_bytes = 0;

  // StepOwner: the protocol steps (WebSocket, SQL) see the VU through this.
  TemplateContext& context() override { return vu; }
  void WakeAt(Nanos at) override { vu.worker().Sleep(vu, at, true); }
  void StepDone(Nanos now, bool end_iteration) override {
    if (!vu.step_failed) vu.iter_ok = true;
    vu.step_failed = false;
    vu.worker().StepDone(vu, now, end_iteration);
  }
  void StepFailed() override {
    vu.step_failed = true;
    ++vu.iter_failures;
  }
  void Note(const std::string& key, const std::string& message) override { vu.worker().Note(key, message); }
  FaultDecision DecideFault(Nanos now) override { return vu.worker().DecideFaultFor(vu, now); }
  bool FaultLost(Nanos now) override { return vu.worker().FaultsOn(vu, now).blackhole; }
};

// ---- a scenario's executor, for this worker's share ---------------------------------------
struct VuWorker::Exec {
  VuWorker* worker = nullptr;
  const ScenarioDef* def = nullptr;
  int scenario = 0;
  Nanos start = 0;     // absolute
  Nanos end = 0;       // no iteration starts after this
  Nanos hard_end = 0;  // graceful stop over: iterations still running are interrupted
  std::vector<std::unique_ptr<Vu>> vus;
  // Open executors: free VUs, handed out first-in first-out, so that every pre-allocated
  // VU takes its turn (last-in first-out kept a handful busy and the rest never ran).
  std::deque<Vu*> idle;
  std::deque<Nanos> queued;  // queue_arrivals: due arrivals waiting for a free VU (their intended times)
  int64_t max_vus = 0;       // open executors: this worker's share
  int64_t next_vu_index = 0;
  int64_t id_base = 0;   // VU ids of this scenario are id_base + 1 ...
  int unsent_base = -1;  // the scenario's own tags in the SeriesCache (arrivals never sent)
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

}  // namespace loadcell
