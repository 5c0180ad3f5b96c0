// VuWorker's own state, shared by its files and no one else: a virtual user (Vu). The
// worker's parts:
//   vu_worker.cc  the event loop, and the host of the executors (engine/executor_runner:
//                 which VU starts an iteration when);
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
#include "protocol/http1/h1_client.h"
#include "scenario/response_eval.h"

namespace loadcell {

// ---- a virtual user ----------------------------------------------------------------------
// A VU is also what `quick` calls a connection, so its size is the engine's memory per
// connection (`quick -c 10000`: 10,000 of them). What every VU needs is here; what only
// some flows need (variables, groups, loops, data rows, random draws, protocol steps,
// HTTP/2, faults) is in Extra, made the first time this VU needs it: a VU that repeats one
// static request never makes one.
struct VuWorker::Vu final : public VuSlot, public TemplateContext, public script::Scope, public http1::H1ClientEvents {
  // The states inside an iteration (VuSlot::State): kHttp1: an HTTP/1.1 request is on the
  // VU's connection (`http` has it). kStep: a protocol step (WebSocket session, SQL query)
  // runs; `extra->step` has it. kH2: an HTTP/2 request waits on a pooled connection
  // (`extra->h2`). kThinking: a think time. kFaultHeld: a request held by an injected fault
  // (latency: until a timer; blackhole: lost, until its timeout). kHttp1, kH2 and
  // kFaultHeld are the states of the VU's HTTP step (`request_step`).
  // A list of steps being run: the scenario's flow (the root), a loop's body, a group's, a
  // pick's choice.
  struct Frame {
    const Steps* steps = nullptr;
    uint32_t next = 0, end = 0;
    const LoopStep* loop = nullptr;
    const GroupStep* group = nullptr;
    const WhileStep* while_step = nullptr;
    bool init = false;              // the scenario's vu_init: the VU is initialised when it ends
    int64_t passes_left = 0;        // count loops: remaining passes after this one; while loops: max
    Nanos group_start = 0;          // a group's start; a `while` step's
    uint32_t outer_group_size = 0;  // the group path outside this group is its prefix of this size
  };
  struct Extra;

  // The VU's HTTP request as a step (vu_http.cc). It lives in the VU, as the connection
  // does: a VU that only sends requests allocates nothing per request. The rest of the HTTP
  // path (sending, answers, failures, metrics) is the worker's, shared by every VU.
  struct HttpStep final : public ActiveStep {
    explicit HttpStep(Vu& owner) : vu(owner) {}
    void Start(Nanos now) override;    // renders (or takes the plan's bytes), then the fault gate
    void OnTimer(Nanos now) override;  // a fault's hold is over, or a bandwidth pause
    void OnScan(Nanos now) override;   // the request's timeout
    void Abort(Nanos now) override;
    Vu& vu;
  };

  Vu(Executor& e, const http1::H1Env& env) : http(env, *this) { exec = &e; }
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

  // The step the VU runs now (nullptr: none; thinking, backing off or between iterations).
  ActiveStep* active_step();

  http1::H1Client http;  // the VU's own HTTP/1.1 connection
  HttpStep request_step{*this};
  Frame root;
  std::unique_ptr<Extra> extra;
  const RequestStep* req = nullptr;
  uint64_t timer_seq = 0;  // the timer that may wake this VU (older ones are stale)
  Nanos iter_start = 0, lag = 0;
  Nanos backoff = 0;  // the wait before the next iteration (0: none)
  Nanos deadline = 0;
  // When the current request started, and when its duration counts from when a fault
  // held it (0: from its first byte written; the connection has the other phases).
  Nanos t_start = 0, sent = 0;
  int64_t iteration_in_test = 0;  // the scenario's iterations before this one, over every VU and generator
  int32_t iter_failures = 0;      // steps and requests in this iteration that could not reach their target
  int base_id = 0;                // scenario + rendered scenario tags, interned in the worker's SeriesCache
  int req_origin = -1;            // where the current request goes
  bool iter_ok = false;           // ... and whether any step got through (an answer, or a failure the target caused)
  bool step_failed = false;       // the running protocol step reported a failure
  bool throttled = false;         // reading paused by a bandwidth fault until a timer
  bool rendered = false;          // the current request's bytes are extra->rendered (else the plan's)

  // TemplateContext
  bool Lookup(std::string_view name, std::string* out_value) const override;
  bool LookupTyped(std::string_view name, std::string* out_value, bool* json) const override;
  Xoshiro256& Rng() override;
  Result<script::Value> EvalScript(const void* key, std::string_view source) override;
  // script::Scope: the last response, for Lua expressions.
  int ResponseStatus() const override;
  const std::vector<std::pair<std::string, std::string>>* ResponseHeaders() const override;
  std::string_view ResponseBody() const override;
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
  // A bandwidth fault: bytes received in the current 100 ms slice; reading paused until
  // the next slice when the slice's budget is spent.
  Nanos rx_slice = 0;
  int64_t rx_bytes = 0;
  int last_status = 0;       // of the last request that kept its response (keep_response)
  bool initialized = false;  // the scenario's vu_init has run to its end

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

inline ActiveStep* VuWorker::Vu::active_step() {
  if (extra != nullptr && extra->step != nullptr) return extra->step.get();
  bool in_request = state == State::kHttp1 || state == State::kH2 || state == State::kFaultHeld;
  return in_request ? &request_step : nullptr;
}

}  // namespace loadcell
