#include "engine/vu_worker.h"
#include "common/rng.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <optional>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "common/printable.h"
#include "engine/sql_query.h"
#include "engine/ws_session.h"
#include "load/constant_rate.h"
#include "load/executor_schedule.h"
#include "load/faults.h"
#include "protocol/http1/response_parser.h"
#include "scenario/response_eval.h"

namespace loadcell {
namespace {

constexpr size_t kReadBuffer = 64 * 1024;
constexpr Nanos kScanInterval = 10 * kMilli;
constexpr int kMaxEvents = 256;

std::vector<RateStage> ToRateStages(const std::vector<Stage>& stages) {
  std::vector<RateStage> out;
  for (const Stage& s : stages) out.push_back({s.duration, s.target});
  return out;
}

}  // namespace

// ---- a virtual user ----------------------------------------------------------------------
struct VuWorker::Vu final : public TemplateContext, public IoHandler, public StepOwner, public http1::H1ClientEvents {
  // kHttp1: an HTTP/1.1 request is on the VU's connection (`http` has it).
  // kStep: a protocol step (WebSocket session, SQL query) runs; `step` has it.
  // kH2: an HTTP/2 request waits on a pooled connection (`h2`).
  // kBackoff: between iterations, after one in which every step failed (see EndIteration).
  // kFaultHeld: a request held by an injected fault (latency: until a timer; blackhole:
  // lost, until its timeout).
  enum class State { kIdle, kHttp1, kThinking, kStep, kH2, kBackoff, kStopped, kFaultHeld };
  struct Frame {
    const Steps* steps = nullptr;
    size_t next = 0, end = 0;
    const LoopStep* loop = nullptr;
    int64_t passes_left = 0;  // count loops: remaining passes after this one; while loops: max
    const GroupStep* group = nullptr;
    Nanos group_start = 0;
    std::string outer_group;
  };

  VuWorker* worker = nullptr;
  Exec* exec = nullptr;
  int64_t id = 0;     // k6's __VU: 1-based, unique in the test
  int64_t index = 0;  // 0-based within the scenario (ramping-vus activation order)
  State state = State::kIdle;
  bool busy = false;                             // inside an iteration
  std::optional<http1::H1Client> http;           // the VU's own HTTP/1.1 connection (made with the VU)
  int req_origin = -1;                           // where the current request goes
  std::unique_ptr<ResponseCollector> collector;  // made for the first request with checks or captures
  // The current request's bytes: the plan's for a static request, else `rendered`'s (kept
  // until the request ends: the connection writes from it).
  std::string_view out;
  std::string rendered;
  std::vector<Frame> stack;
  std::unordered_map<std::string, std::string> vars;
  std::unordered_set<std::string> json_vars;  // captured values that are JSON, not strings
  std::vector<int64_t> rows;                  // current row of each data feeder
  int64_t iteration = -1;
  int64_t iterations_done = 0;
  Nanos ramp_down_at = 0;  // ramping-vus: cut the iteration at this time (0: not ramped down)
  uint64_t timer_seq = 0;  // the think timer that may wake this VU (older ones are stale)
  Nanos iter_start = 0, lag = 0;
  int64_t iter_failures = 0;        // steps and requests in this iteration that could not reach their target
  bool iter_ok = false;             // ... and whether any got through (an answer, or a failure the target caused)
  bool step_failed = false;         // the running protocol step reported a failure
  Nanos backoff = 0;                // the wait before the next iteration (0: none)
  const Tags* base_tags = nullptr;  // scenario + rendered scenario tags (interned: VUs with equal tags share them)
  int base_id = 0;                  // base_tags interned in the worker's SeriesCache
  std::string group;                // "::outer::inner" as k6 writes group paths
  const RequestStep* req = nullptr;
  Nanos deadline = 0;
  // When the current request started, and when its duration counts from when a fault
  // held it (0: from its first byte written; the connection has the other phases).
  Nanos t_start = 0, sent = 0;
  Xoshiro256 rng;
  std::unique_ptr<ActiveStep> step;
  H2Pool::Request* h2 = nullptr;
  int h2_origin = -1;
  // A bandwidth fault: bytes received in the current 100 ms slice; reading paused until
  // the next slice when the slice's budget is spent.
  Nanos rx_slice = 0;
  int64_t rx_bytes = 0;
  bool throttled = false;

  // TemplateContext
  bool Lookup(std::string_view name, std::string* out_value) const override;
  bool LookupTyped(std::string_view name, std::string* out_value, bool* json) const override;
  Xoshiro256& Rng() override { return rng; }
  int64_t NowMs() const override {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  }
  // IoHandler: events of the VU's own HTTP connection.
  void OnIo(uint32_t events, Nanos now) override { worker->OnEvent(*this, events, now); }
  // H1ClientEvents
  void OnResponse(Nanos now) override { worker->Complete(*this, now); }
  void OnFailed(Failure failure, Nanos now) override {
    // Without a request (a connection opened ahead of the start that failed): nothing to
    // count; the first request connects again.
    if (state == State::kHttp1) worker->FailRequest(*this, failure, now);
  }
  void OnBytes(int64_t sent_bytes, int64_t received) override { worker->CountBytes(*this, sent_bytes, received); }
  void OnConnect() override { worker->series_.Vu(base_id, SeriesCache::VuMetric::kConnectionsOpened).Count(1); }
  size_t ReadAllowance(Nanos now) override { return worker->ReadAllowance(*this, now); }
  // StepOwner
  TemplateContext& context() override { return *this; }
  void WakeAt(Nanos at) override { worker->Sleep(*this, at, true); }
  void StepDone(Nanos now, bool end_iteration) override {
    if (!step_failed) iter_ok = true;
    step_failed = false;
    worker->StepDone(*this, now, end_iteration);
  }
  void StepFailed() override {
    step_failed = true;
    ++iter_failures;
  }
  void Note(const std::string& key, const std::string& message) override { worker->Note(key, message); }
  FaultDecision DecideFault(Nanos now) override { return worker->DecideFaultFor(*this, now); }
  bool FaultLost(Nanos now) override { return worker->FaultsOn(*this, now).blackhole; }
};

// ---- a scenario's executor, for this worker's share ---------------------------------------
struct VuWorker::Exec {
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

bool VuWorker::Vu::Lookup(std::string_view name, std::string* out_value) const {
  bool json = false;
  return LookupTyped(name, out_value, &json);
}

bool VuWorker::Vu::LookupTyped(std::string_view name, std::string* out_value, bool* json) const {
  const TestPlan& p = worker->plan_;
  *json = name == "vu" || name == "iteration";
  if (name == "vu") {
    *out_value = std::to_string(id);
    return true;
  }
  if (name == "iteration") {
    *out_value = std::to_string(iteration);
    return true;
  }
  if (name == "scenario") {
    *out_value = exec->def->name;
    return true;
  }
  if (name.starts_with("vars.")) {
    auto it = p.def.vars.find(std::string(name.substr(5)));
    if (it == p.def.vars.end()) return false;
    *out_value = it->second;
    *json = p.def.json_vars.count(it->first) != 0;
    return true;
  }
  if (name.starts_with("env.")) {
    std::string key(name.substr(4));
    if (auto it = exec->def->env.find(key); it != exec->def->env.end())
      *out_value = it->second;
    else if (auto it2 = p.def.env.find(key); it2 != p.def.env.end())
      *out_value = it2->second;
    else if (const char* v = std::getenv(key.c_str()))
      *out_value = v;
    else
      return false;
    return true;
  }
  if (name.starts_with("data.")) {
    std::string_view rest = name.substr(5);
    size_t dot = rest.find('.');
    std::string_view feeder = rest.substr(0, dot), column = dot == std::string_view::npos ? "" : rest.substr(dot + 1);
    for (size_t f = 0; f < p.def.data.size(); ++f) {
      const DataFeeder& d = p.def.data[f];
      if (d.name != feeder) continue;
      for (size_t c = 0; c < d.columns.size(); ++c) {
        if (d.columns[c] == column && rows[f] >= 0) {
          *out_value = d.rows[static_cast<size_t>(rows[f])][c];
          return true;
        }
      }
    }
    return false;
  }
  auto it = vars.find(std::string(name));
  if (it == vars.end()) return false;
  *out_value = it->second;
  *json = json_vars.count(it->first) != 0;
  return true;
}

constexpr int kMaxArrivalsPerTick = 1 << 16;

// ---- the worker ---------------------------------------------------------------------------
VuWorker::VuWorker(const TestPlan& plan, int index, StartGate& gate, const std::atomic<bool>& stop,
                   const std::atomic<bool>& force, LiveAggregates* live, IntervalSink* intervals)
    : plan_(plan),
      index_(index),
      gate_(gate),
      interrupted_(stop),
      force_(force),
      live_(live),
      intervals_(intervals),
      buf_(kReadBuffer),
      scenarios_(plan.def.scenarios.size()),
      active_by_scenario_(std::make_unique<std::atomic<int64_t>[]>(plan.def.scenarios.size())) {}

VuWorker::~VuWorker() = default;

namespace {
constexpr Nanos kPoolOpenWait = 5 * kSecond;
constexpr Nanos kMinBackoff = 10 * kMilli;
constexpr Nanos kMaxBackoff = kSecond;
}  // namespace

void VuWorker::OpenPools() {
  const int n = plan_.threads;
  // Database pools: this worker's share of each pool's connections (at least one), opened
  // before the start as an application's pool would be: the first queries should not pay
  // for the connections (a database that is down fails them once the run starts).
  bool any = false;
  for (size_t d = 0; d < plan_.def.databases.size(); ++d) {
    const DatabaseDef& db = plan_.def.databases[d];
    int64_t share = std::max<int64_t>(1, db.pool / n + (index_ < db.pool % n ? 1 : 0));
    pools_.push_back(std::make_unique<pg::PgPool>(poller_, db.url, static_cast<int>(share), plan_.sql_statements[d]));
    if (plan_.sql_statements[d].empty()) continue;  // declared but unused: no connections
    pools_.back()->Open();
    any = true;
  }
  if (!any) return;
  // A database that accepts connections but never answers (or a firewall that drops
  // them) must not hold the start back: after kPoolOpenWait the run starts with the
  // connections it has, the others keep trying, and the summary says so.
  std::vector<epoll_event> events(kMaxEvents);
  Nanos until = MonotonicClock::ReadNow() + kPoolOpenWait;
  for (;;) {
    Nanos now = MonotonicClock::ReadNow();
    bool connecting = std::any_of(pools_.begin(), pools_.end(), [](const auto& p) { return p->connecting() > 0; });
    if (!connecting) return;
    if (now >= until) {
      for (size_t d = 0; d < pools_.size(); ++d) {
        if (int c = pools_[d]->connecting(); c > 0) {
          Note("pool-open:" + plan_.def.databases[d].name,
               fmt::format("database {}: {} connection(s) still not open after {} s; the run started without them",
                           plan_.def.databases[d].name, c, kPoolOpenWait / kSecond));
        }
      }
      return;
    }
    int got = poller_.Wait(events.data(), kMaxEvents, std::min<Nanos>(until - now, 100 * kMilli));
    for (int i = 0; i < got; ++i) {
      static_cast<IoHandler*>(events[static_cast<size_t>(i)].data.ptr)
          ->OnIo(events[static_cast<size_t>(i)].events, MonotonicClock::ReadNow());
    }
  }
}

void VuWorker::StartExecutors() {
  const ExecutionSegment* striped = plan_.segment.whole() ? nullptr : &plan_.segment;
  for (auto& e : execs_) {
    e->start += start_;
    e->end += start_;
    e->hard_end += start_;
    const ScenarioDef& d = *e->def;
    if (d.executor == ExecutorKind::kConstantArrivalRate) {
      e->constant.emplace(e->start, e->end, d.rate * static_cast<double>(kSecond) / static_cast<double>(d.time_unit),
                          index_, plan_.threads, striped);
    }
  }
}

void VuWorker::Preconnect() {
  // quick -R: every connection up before the start, as wrk2 and quick always did; made at
  // the first arrivals instead, hundreds of connects in one pass of the loop made the
  // first arrivals start milliseconds late.
  bool any = false;
  Nanos now = MonotonicClock::ReadNow();
  for (auto& e : execs_) {
    if (!e->def->queue_arrivals || plan_.def.http_version != 1 || e->def->flow.empty()) continue;
    const auto* req = std::get_if<RequestStep>(&e->def->flow.front().body);
    if (req == nullptr || plan_.builders.at(req).dynamic_origin()) continue;
    const Origin& o = OriginAt(plan_.origin_of.at(req));
    for (auto& vu : e->vus) vu->http->Open({plan_.origin_of.at(req), &o.endpoint, &o.url.host, o.url.tls()}, now);
    any = true;
  }
  if (!any) return;
  std::vector<epoll_event> events(kMaxEvents);
  const Nanos deadline = now + std::min<Nanos>(plan_.default_timeout, 5 * kSecond);
  auto connecting = [this] {
    for (auto& e : execs_) {
      for (auto& vu : e->vus) {
        if (vu->http->busy()) return true;
      }
    }
    return false;
  };
  while (connecting() && MonotonicClock::ReadNow() < deadline && !interrupted_.load(std::memory_order_relaxed)) {
    int n = poller_.Wait(events.data(), kMaxEvents, 10 * kMilli);
    for (int i = 0; i < n; ++i) {
      auto* h = static_cast<IoHandler*>(events[static_cast<size_t>(i)].data.ptr);
      h->OnIo(events[static_cast<size_t>(i)].events, MonotonicClock::ReadNow());
    }
  }
  // Still connecting at the deadline: dropped; their first request connects again.
  for (auto& e : execs_) {
    for (auto& vu : e->vus) {
      if (vu->http->busy()) vu->http->Close();
    }
  }
}

// Executors with times relative to the start (StartExecutors makes them absolute once the
// start gate opens) and their first VUs.
void VuWorker::SetUpExecutors() {
  const int n = plan_.threads;
  const ExecutionSegment& segment = plan_.segment;
  const ExecutionSegment* striped = segment.whole() ? nullptr : &segment;
  h2_pools_.resize(plan_.origins.size());  // grows as templated URLs render to other origins
  int64_t id_base = 0;
  for (size_t si = 0; si < plan_.def.scenarios.size(); ++si) {
    const ScenarioDef& d = plan_.def.scenarios[si];
    auto e = std::make_unique<Exec>();
    e->def = &d;
    e->scenario = static_cast<int>(si);
    e->start = d.start_time;
    int64_t total_vus = 0;  // the whole test's; this generator runs segment.Scale(total_vus)
    switch (d.executor) {
      case ExecutorKind::kConstantVus:
        total_vus = d.vus;
        e->end = e->start + d.duration;
        break;
      case ExecutorKind::kRampingVus: {
        // The whole test's ramp, one VU at a time; this generator runs its share of each
        // count (Scale only grows with the count, so its VUs also change one at a time).
        for (const VuStep& step : RampingVus(d.start_vus, ToRateStages(d.stages))) {
          VuStep mine{step.at, segment.Scale(step.vus)};
          if (e->vu_steps.empty() || e->vu_steps.back().vus != mine.vus || step.vus == 0) e->vu_steps.push_back(mine);
        }
        total_vus = d.start_vus;
        for (const Stage& s : d.stages) total_vus = std::max<int64_t>(total_vus, static_cast<int64_t>(s.target));
        e->end = e->start + e->vu_steps.back().at;
        break;
      }
      case ExecutorKind::kPerVuIterations:
      case ExecutorKind::kSharedIterations:
        total_vus = d.vus;
        e->end = e->start + d.max_duration;
        break;
      case ExecutorKind::kConstantArrivalRate:
        total_vus = d.max_vus;
        e->end = e->start + d.duration;
        break;
      case ExecutorKind::kRampingArrivalRate:
        total_vus = d.max_vus;
        e->ramp.emplace(d.start_rate, d.time_unit, ToRateStages(d.stages), index_, n, striped);
        e->end = e->start + e->ramp->total_duration() + 1;  // the last arrival may land on the end
        break;
      case ExecutorKind::kCapacitySearch: break;
    }
    e->iterations = d.iterations;
    if (d.executor == ExecutorKind::kSharedIterations && striped != nullptr) {
      // Shared iterations follow the VUs: iteration j is the whole test's VU j % vus's to
      // run, so a generator without a VU has no iteration to lose, and the shares add up.
      e->iterations =
          d.iterations / d.vus * segment.Scale(d.vus) + segment.Scale(std::min(d.vus, d.iterations % d.vus));
    }
    e->hard_end = e->end + (d.executor == ExecutorKind::kRampingVus ? std::max(d.graceful_ramp_down, d.graceful_stop)
                                                                    : d.graceful_stop);
    // VU k of this generator's share lives on worker k % n; its id is the whole test's.
    e->id_base = id_base;
    if (e->open()) {
      // At least one VU wherever arrivals are owned, or they would all be dropped.
      auto share = [&](int64_t v) {
        return striped == nullptr ? v : std::max<int64_t>(v > 0 ? 1 : 0, segment.Scale(v));
      };
      int64_t pre_all = share(d.pre_allocated_vus), max_all = share(d.max_vus);
      int64_t pre = pre_all / n + (index_ < pre_all % n ? 1 : 0);
      e->max_vus = max_all / n + (index_ < max_all % n ? 1 : 0);
      e->next_vu_index = index_;
      for (int64_t i = 0; i < pre; ++i) {
        e->idle.push_back(&NewVu(*e, e->next_vu_index));
        e->next_vu_index += n;
      }
    } else {
      for (int64_t k = index_; k < segment.Scale(total_vus); k += n) NewVu(*e, k);
    }
    id_base += total_vus;
    execs_.push_back(std::move(e));
  }
}

VuWorker::Vu& VuWorker::NewVu(Exec& e, int64_t index) {
  const ScenarioDef& d = *e.def;
  auto vu = std::make_unique<Vu>();
  vu->worker = this;
  vu->exec = &e;
  vu->index = index;
  vu->id = e.id_base + plan_.segment.GlobalIndex(index) + 1;
  vu->rng.seed(plan_.seed ^ (static_cast<uint64_t>(vu->id) * 0x9E3779B97F4A7C15ULL));
  vu->rows.assign(plan_.def.data.size(), -1);
  Tags base;
  base["scenario"] = d.name;
  for (const auto& [k, t] : d.tags) {
    auto v = t.Render(*vu);
    base[k] = v.ok() ? *v : "";
  }
  vu->base_id = series_.Intern(base);
  vu->base_tags = &series_.BaseTags(vu->base_id);
  vu->http.emplace(poller_, plan_.tls.get(), buf_, static_cast<IoHandler*>(vu.get()), *vu);
  ++stats_.vus_max;
  e.vus.push_back(std::move(vu));
  return *e.vus.back();
}

bool VuWorker::Continues(Exec& e, Vu& vu, Nanos now) {
  if (e.finished || now >= e.end || interrupted_.load(std::memory_order_relaxed)) return false;
  const ScenarioDef& d = *e.def;
  switch (d.executor) {
    case ExecutorKind::kConstantVus: return true;
    case ExecutorKind::kRampingVus: return vu.index < e.wanted;
    case ExecutorKind::kPerVuIterations: return vu.iterations_done < d.iterations;
    case ExecutorKind::kSharedIterations:
      return plan_.shared_iterations[static_cast<size_t>(e.scenario)].fetch_add(1, std::memory_order_relaxed) <
             e.iterations;
    default: return false;  // open executors: the schedule starts iterations
  }
}

void VuWorker::Tick(Exec& e, Nanos now) {
  if (e.finished || now < e.start) return;
  const ScenarioDef& d = *e.def;
  if (!e.started) {
    e.started = true;
    if (!e.open() && d.executor != ExecutorKind::kRampingVus) {
      for (auto& vu : e.vus) {
        if (Continues(e, *vu, now)) StartIteration(*vu, now, now);
      }
    }
  }
  if (d.executor == ExecutorKind::kRampingVus) {
    Nanos t = now - e.start;
    int64_t wanted = 0;
    for (const VuStep& s : e.vu_steps) {
      if (s.at <= t) wanted = s.vus;
    }
    e.wanted = now >= e.end ? 0 : wanted;
    for (auto& vu : e.vus) {
      if (!vu->busy && vu->state != Vu::State::kBackoff && vu->index < e.wanted &&
          !interrupted_.load(std::memory_order_relaxed)) {
        StartIteration(*vu, now, now);
      } else if (vu->busy && vu->index >= e.wanted && now < e.end) {
        // Ramped down mid-iteration: it may finish within graceful_ramp_down, then it is cut.
        if (vu->ramp_down_at == 0) {
          vu->ramp_down_at = now + d.graceful_ramp_down;
        } else if (now >= vu->ramp_down_at) {
          Interrupt(*vu);
        }
      }
    }
  }
  if (e.open() && !interrupted_.load(std::memory_order_relaxed)) {
    auto free_vu = [&]() -> Vu* {
      if (!e.idle.empty()) {
        Vu* vu = e.idle.front();
        e.idle.pop_front();
        return vu;
      }
      if (static_cast<int64_t>(e.vus.size()) < e.max_vus) {
        // VUs are added on demand up to max_vus.
        Vu* vu = &NewVu(e, e.next_vu_index);
        e.next_vu_index += plan_.threads;
        return vu;
      }
      return nullptr;
    };
    if (d.queue_arrivals) {
      // Waiting arrivals first, oldest first; one that waited a whole request timeout fails
      // as a timeout (it would have, sent: its timeout counts from its intended time).
      const Nanos expiry = plan_.default_timeout;
      while (!e.queued.empty() && now - e.queued.front() >= expiry) {
        e.queued.pop_front();
        FailUnsent(e, Failure::kTimeout);
      }
      while (!e.queued.empty()) {
        Vu* vu = free_vu();
        if (vu == nullptr) break;
        Nanos scheduled = e.queued.front();
        e.queued.pop_front();
        StartIteration(*vu, now, scheduled);
      }
    }
    auto due = [&](Nanos scheduled) {
      Vu* vu = e.queued.empty() ? free_vu() : nullptr;
      if (vu == nullptr && d.queue_arrivals) {
        e.queued.push_back(scheduled);
        rec_.Count("delayed_iterations", Tags{{"scenario", d.name}});
        return;
      }
      if (vu == nullptr) {
        // No VU free: k6 drops the iteration rather than delay it.
        store_.Count("dropped_iterations", {{"scenario", d.name}});
        interval_.Count("dropped_iterations", {{"scenario", d.name}});
        return;
      }
      StartIteration(*vu, now, scheduled);
    };
    // At most kMaxArrivalsPerTick arrivals per pass of the loop: whatever the schedule says,
    // the loop comes back to its clock, timers and signals (the rest are due next pass).
    int taken = 0;
    if (e.constant) {
      while (!e.constant->done() && e.constant->next() <= now && e.constant->next() < e.end &&
             taken++ < kMaxArrivalsPerTick) {
        due(e.constant->next());
        e.constant->Advance();
      }
    } else if (e.ramp) {
      while (!e.ramp->done() && e.start + e.ramp->next() <= now && e.start + e.ramp->next() <= e.end &&
             taken++ < kMaxArrivalsPerTick) {
        due(e.start + e.ramp->next());
        e.ramp->Advance();
      }
    }
  }
  // Over when nothing can start and nothing runs (or the graceful stop has passed).
  bool any_busy = std::any_of(e.vus.begin(), e.vus.end(), [](const auto& v) { return v->busy; });
  bool can_start = now < e.end && !interrupted_.load(std::memory_order_relaxed);
  if (e.open()) can_start = can_start && !(e.constant ? e.constant->done() : e.ramp->done());
  // Arrivals still waiting may start until the graceful stop is over.
  if (!e.queued.empty() && now < e.hard_end && !interrupted_.load(std::memory_order_relaxed)) can_start = true;
  if (!e.open() && d.executor != ExecutorKind::kRampingVus) {
    // Started at once, they continue from EndIteration (or after a back-off).
    can_start = can_start &&
                std::any_of(e.vus.begin(), e.vus.end(), [](const auto& v) { return v->state == Vu::State::kBackoff; });
  }
  if (!can_start && !e.queued.empty()) {
    // Never sent: the graceful stop ended (or the run was interrupted) while they waited.
    for (; !e.queued.empty(); e.queued.pop_front()) FailUnsent(e, Failure::kTimeout);
  }
  if ((now >= e.hard_end || force_.load(std::memory_order_relaxed)) && any_busy) {
    for (auto& vu : e.vus) {
      if (vu->busy) Interrupt(*vu);
      vu->state = Vu::State::kStopped;
    }
    any_busy = false;
  }
  if (!any_busy && !can_start) e.finished = true;
}

void VuWorker::Interrupt(Vu& vu) {
  ++stats_.interrupted;
  AbandonH2(vu);
  if (vu.step != nullptr) {
    vu.step->Abort(MonotonicClock::ReadNow());
    retired_.push_back(std::move(vu.step));
  }
  vu.http->Close();
  vu.throttled = false;
  vu.busy = false;
  vu.ramp_down_at = 0;
  vu.state = Vu::State::kIdle;  // a pending think timer finds it idle and is ignored
  vu.stack.clear();
}

void VuWorker::StartIteration(Vu& vu, Nanos now, Nanos scheduled) {
  Exec& e = *vu.exec;
  // Data rows for this iteration.
  for (size_t f = 0; f < plan_.def.data.size(); ++f) {
    const DataFeeder& d = plan_.def.data[f];
    auto rows = static_cast<int64_t>(d.rows.size());
    switch (d.mode) {
      case DataFeeder::Mode::kSequential:
        // Rows are numbered as in the whole test: generators take disjoint rows.
        vu.rows[f] = plan_.segment.GlobalIndex(plan_.feeder_cursor[f].fetch_add(1, std::memory_order_relaxed)) % rows;
        break;
      case DataFeeder::Mode::kRandom: vu.rows[f] = static_cast<int64_t>(vu.rng() % static_cast<uint64_t>(rows)); break;
      case DataFeeder::Mode::kUnique: {
        int64_t r = plan_.segment.GlobalIndex(plan_.feeder_cursor[f].fetch_add(1, std::memory_order_relaxed));
        if (r >= rows) {
          if (!e.finished) {
            stats_.messages.push_back(
                fmt::format("scenario {}: data file {} exhausted after {} rows (mode unique); "
                            "the scenario ended",
                            e.def->name, d.file, rows));
          }
          e.finished = true;
          for (auto& other : e.vus) {
            if (!other->busy) other->state = Vu::State::kStopped;
          }
          return;
        }
        vu.rows[f] = r;
        break;
      }
    }
  }
  vu.busy = true;
  ++vu.iteration;
  vu.iter_start = scheduled;
  vu.iter_failures = 0;
  vu.iter_ok = false;
  vu.lag = std::max<Nanos>(0, now - scheduled);
  // Open executors: how late the iteration started against its schedule (the engine's
  // own send lag); the self-check warns when its p99 is above 1 ms.
  if (e.open()) series_.StartLag(vu.base_id).AddTrend(vu.lag);
  vu.group.clear();
  vu.stack.clear();
  vu.stack.push_back({&e.def->flow, 0, e.def->flow.size()});
  Advance(vu, now);
}

void VuWorker::EndIteration(Vu& vu, Nanos now, bool completed) {
  Exec& e = *vu.exec;
  vu.busy = false;
  vu.ramp_down_at = 0;
  vu.stack.clear();
  if (completed) {
    ++vu.iterations_done;
    series_.Vu(vu.base_id, SeriesCache::VuMetric::kIterations).Count(1);
    series_.Vu(vu.base_id, SeriesCache::VuMetric::kIterationDuration).Trend(now - vu.iter_start);
  }
  if (e.open()) {
    vu.state = Vu::State::kIdle;
    if (!e.finished) e.idle.push_back(&vu);
    return;
  }
  if (!Continues(e, vu, now)) {
    vu.state = Vu::State::kIdle;
    return;
  }
  // A VU whose every step failed to reach its target (target or database down, out of file
  // descriptors) would loop at full speed and, when the failures are synchronous, recurse
  // until the stack overflows: it waits 10 ms, doubling to 1 s, until an iteration gets
  // through. A request the target answered badly, reset or left unanswered got through:
  // that is load the target took, and the next iteration goes at once (as wrk does). An iteration that ended in the
  // event it started in (no I/O at all) goes on at the next turn of the loop rather than recursing here.
  const bool all_failed = vu.iter_failures > 0 && !vu.iter_ok;
  vu.backoff = all_failed ? std::clamp<Nanos>(vu.backoff * 2, kMinBackoff, kMaxBackoff) : 0;
  if (vu.backoff > 0 || vu.iter_start == now) {
    vu.state = Vu::State::kBackoff;
    vu.timer_seq = ++timer_seq_;
    timers_.push_back({now + std::max<Nanos>(vu.backoff, 1), &vu, vu.timer_seq});
    std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
    return;
  }
  StartIteration(vu, now, now);
}

void VuWorker::Advance(Vu& vu, Nanos now) {
  for (;;) {
    if (vu.stack.empty()) {
      EndIteration(vu, now, true);
      return;
    }
    Vu::Frame& f = vu.stack.back();
    if (f.next >= f.end) {
      if (f.loop != nullptr) {
        bool again = false;
        if (f.loop->condition) {
          auto v = f.loop->condition->Render(vu);
          again = f.passes_left > 0 && v.ok() && !v->empty() && *v != "0" && *v != "false";
        } else {
          again = f.passes_left > 0;
        }
        if (again) {
          --f.passes_left;
          f.next = 0;
          continue;
        }
      }
      if (f.group != nullptr) {
        Tags t = *vu.base_tags;
        t["group"] = vu.group;
        store_.Trend("group_duration", t, now - f.group_start);
        vu.group = f.outer_group;
      }
      vu.stack.pop_back();
      continue;
    }
    const Step& step = (*f.steps)[f.next++];
    if (const auto* r = std::get_if<RequestStep>(&step.body)) {
      vu.req = r;
      StartRequest(vu, now);
      return;
    }
    if (const auto* t = std::get_if<ThinkStep>(&step.body)) {
      Nanos d = t->a;
      if (t->kind == ThinkStep::Kind::kUniform) {
        d = std::uniform_int_distribution<Nanos>(t->a, t->b)(vu.rng);
      } else if (t->kind == ThinkStep::Kind::kExponential) {
        d = static_cast<Nanos>(std::exponential_distribution<double>(1.0 / static_cast<double>(t->a))(vu.rng));
      }
      Sleep(vu, now + d, false);
      return;
    }
    if (const auto* w = std::get_if<WsStep>(&step.body)) {
      StartWs(vu, *w, now);
      return;
    }
    if (const auto* q = std::get_if<SqlStep>(&step.body)) {
      StartSql(vu, *q, now);
      return;
    }
    if (const auto* s = std::get_if<SetStep>(&step.body)) {
      for (const auto& [name, tmpl] : s->values) {
        auto v = tmpl.Render(vu);
        vu.json_vars.erase(name);
        if (v.ok())
          vu.vars[name] = *v;
        else
          vu.vars.erase(name);
      }
      continue;
    }
    if (const auto* p = std::get_if<PickStep>(&step.body)) {
      double total = 0;
      for (double w : p->weights) total += w;
      double x = std::uniform_real_distribution<double>(0, total)(vu.rng);
      size_t i = 0;
      while (i + 1 < p->weights.size() && x >= p->weights[i]) x -= p->weights[i++];
      vu.stack.push_back({&p->choices, i, i + 1});
      continue;
    }
    if (const auto* l = std::get_if<LoopStep>(&step.body)) {
      Vu::Frame lf{&l->steps, 0, l->steps.size(), l};
      if (l->condition) {
        auto v = l->condition->Render(vu);
        if (!v.ok() || v->empty() || *v == "0" || *v == "false") continue;
        lf.passes_left = l->max - 1;
      } else {
        if (l->count <= 0) continue;
        lf.passes_left = l->count - 1;
      }
      vu.stack.push_back(lf);
      continue;
    }
    if (const auto* g = std::get_if<GroupStep>(&step.body)) {
      Vu::Frame gf{&g->steps, 0, g->steps.size()};
      gf.group = g;
      gf.group_start = now;
      gf.outer_group = vu.group;
      vu.group += "::" + g->name;
      vu.stack.push_back(gf);
      continue;
    }
  }
}

void VuWorker::StartWs(Vu& vu, const WsStep& w, Nanos now) {
  Tags tags = *vu.base_tags;
  tags["name"] = w.name;
  tags["group"] = vu.group;
  for (const auto& [k, v] : w.tags) tags[k] = v;
  const WsTarget& t = plan_.ws_targets.at(&w);
  WsSessionEnv env{&poller_, plan_.tls.get(), &buf_, &rec_, &OriginAt(t.origin).endpoint, plan_.default_timeout};
  vu.state = Vu::State::kStep;
  vu.step = std::make_unique<WsSession>(w, t.builder, env, vu, std::move(tags), vu.rng);
  vu.step->Start(now);
}

void VuWorker::StepDone(Vu& vu, Nanos now, bool end_iteration) {
  // Freed after the event batch: the step is still on the call stack.
  retired_.push_back(std::move(vu.step));
  vu.state = Vu::State::kIdle;
  ++vu.timer_seq;  // its pending wake, if any, is stale now
  if (end_iteration) {
    ++stats_.render_failures;
    EndIteration(vu, now, false);
    return;
  }
  Advance(vu, now);
}

void VuWorker::StartSql(Vu& vu, const SqlStep& q, Nanos now) {
  Tags tags = *vu.base_tags;
  tags["name"] = q.name;
  tags["group"] = vu.group;
  tags["db"] = q.db;
  for (const auto& [k, v] : q.tags) tags[k] = v;
  vu.state = Vu::State::kStep;
  vu.step = std::make_unique<SqlQuery>(q, plan_.sql_statement.at(&q), *pools_[static_cast<size_t>(q.db_index)], rec_,
                                       vu, std::move(tags), vu.vars, vu.lag, plan_.default_timeout);
  vu.step->Start(now);
}

void VuWorker::Note(const std::string& key, const std::string& message) {
  if (noted_.insert(key).second) stats_.messages.push_back(Printable(message));
}

void VuWorker::Sleep(Vu& vu, Nanos until, bool for_step) {
  vu.state = for_step ? Vu::State::kStep : Vu::State::kThinking;
  vu.timer_seq = ++timer_seq_;
  timers_.push_back({until, &vu, vu.timer_seq});
  std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
}

void VuWorker::StartRequest(Vu& vu, Nanos now) {
  if (plan_.def.http_version == 2) {
    StartH2(vu, now);
    return;
  }
  if (vu.req != last_req_) {
    // Most flows repeat one request or a few: the plan's maps are read once per change.
    last_req_ = vu.req;
    last_builder_ = &plan_.builders.at(vu.req);
    last_origin_ = plan_.origin_of.at(vu.req);
  }
  const RequestBuilder& b = *last_builder_;
  vu.req_origin = last_origin_;
  if (b.is_static()) {
    vu.out = b.static_bytes();  // compiled once, sent from the plan: no copy per request
  } else {
    Url rendered_origin;
    auto bytes = b.Render(vu, b.dynamic_origin() ? &rendered_origin : nullptr);
    if (bytes.ok() && b.dynamic_origin()) {
      auto index = OriginFor(rendered_origin);
      if (!index.ok())
        bytes = index.error();
      else
        vu.req_origin = *index;
    }
    if (!bytes.ok()) {
      // A template that cannot render (a capture that failed earlier, say) ends the
      // iteration: its remaining steps depend on it.
      if (stats_.render_failures++ == 0) {
        stats_.messages.push_back(fmt::format("request {}: {} (iterations that cannot render a request end there)",
                                              vu.req->name, bytes.error().message));
      }
      EndIteration(vu, now, false);
      return;
    }
    vu.rendered = std::move(bytes).value();
    vu.out = vu.rendered;
  }
  vu.t_start = now;
  vu.sent = 0;
  vu.deadline = now + vu.req->timeout.value_or(plan_.default_timeout);
  if (vu.exec->def->queue_arrivals) vu.deadline -= vu.lag;  // wrk2's model: from the intended time
  FaultDecision fault = DecideFaultFor(vu, now);
  switch (fault.action) {
    case FaultDecision::Action::kLose:
      // Lost on the way: it fails as a timeout when its timeout is up, as a request whose
      // packets are dropped would.
      vu.state = Vu::State::kFaultHeld;
      return;
    case FaultDecision::Action::kReset:
      vu.http->Reset();
      FailRequest(vu, Failure::kReset, now);
      return;
    case FaultDecision::Action::kHold:
      // Held before it is sent, and its duration counts from now: the delay a slower
      // network would add.
      vu.sent = now;
      HoldForFault(vu, now + fault.hold);
      return;
    case FaultDecision::Action::kPass: break;
  }
  SendRequest(vu, now);
}

ActiveFaults VuWorker::FaultsOn(const Vu& vu, Nanos now) const {
  if (plan_.def.faults.empty()) return {};
  return FaultsAt(plan_.def.faults, now - start_, vu.exec->def->name);
}

FaultDecision VuWorker::DecideFaultFor(Vu& vu, Nanos now) const {
  if (plan_.def.faults.empty()) return {};
  return DecideFault(FaultsOn(vu, now), [&vu] { return std::uniform_real_distribution<double>(0, 1)(vu.rng); });
}

void VuWorker::HoldForFault(Vu& vu, Nanos until) {
  vu.state = Vu::State::kFaultHeld;
  vu.timer_seq = ++timer_seq_;
  timers_.push_back({until, &vu, vu.timer_seq});
  std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
}

void VuWorker::SendRequest(Vu& vu, Nanos now) {
  const Origin& o = OriginAt(vu.req_origin);
  bool collect = !vu.req->checks.empty() || !vu.req->captures.empty();
  if (collect && vu.collector == nullptr) vu.collector = std::make_unique<ResponseCollector>();
  vu.state = Vu::State::kHttp1;
  vu.http->Send({vu.req_origin, &o.endpoint, &o.url.host, o.url.tls()}, vu.out, vu.req->method == "HEAD",
                collect ? vu.collector.get() : nullptr, now);
}

void VuWorker::OnEvent(Vu& vu, uint32_t events, Nanos now) {
  if (vu.state == Vu::State::kHttp1 && FaultsOn(vu, now).blackhole) {
    // What arrives during a blackhole is lost: the request waits for its timeout.
    vu.http->Close();
    vu.throttled = false;
    vu.state = Vu::State::kFaultHeld;
    return;
  }
  vu.http->OnIo(events, now);
}

void VuWorker::CountBytes(Vu& vu, int64_t sent, int64_t received) {
  if (sent > 0) series_.Vu(vu.base_id, SeriesCache::VuMetric::kDataSent).Count(sent);
  if (received > 0) {
    vu.rx_bytes += received;
    series_.Vu(vu.base_id, SeriesCache::VuMetric::kDataReceived).Count(received);
  }
}

size_t VuWorker::ReadAllowance(Vu& vu, Nanos now) {
  if (plan_.def.faults.empty()) return SIZE_MAX;
  int64_t rate = FaultsOn(vu, now).bandwidth;
  if (rate <= 0) return SIZE_MAX;
  // A budget of rate/10 bytes per 100 ms slice: the reader pauses when it is spent, and
  // the kernel's receive window then slows the sender down, as a thin link would.
  constexpr Nanos kSlice = 100 * kMilli;
  if (now - vu.rx_slice >= kSlice) {
    vu.rx_slice = now;
    vu.rx_bytes = 0;
  }
  int64_t budget = std::max<int64_t>(1, rate / 10) - vu.rx_bytes;
  if (budget > 0) return static_cast<size_t>(budget);
  vu.throttled = true;
  vu.timer_seq = ++timer_seq_;
  timers_.push_back({vu.rx_slice + kSlice, &vu, vu.timer_seq});
  std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
  return 0;
}

const Origin& VuWorker::OriginAt(int index) const {
  size_t i = static_cast<size_t>(index);
  return i < plan_.origins.size() ? plan_.origins[i] : rendered_origins_[i - plan_.origins.size()];
}

Result<int> VuWorker::OriginFor(const Url& u) {
  auto same = [&u](const Origin& o) {
    return o.url.scheme == u.scheme && o.url.host == u.host && o.url.port == u.port;
  };
  for (size_t i = 0; i < plan_.origins.size(); ++i) {
    if (same(plan_.origins[i])) return static_cast<int>(i);
  }
  for (size_t i = 0; i < rendered_origins_.size(); ++i) {
    if (same(rendered_origins_[i])) return static_cast<int>(plan_.origins.size() + i);
  }
  // First sight of this origin on this worker: resolved here, once (a name lookup blocks
  // the worker for as long as the resolver takes; IP literals and /etc/hosts do not wait).
  auto ep = Resolve(u.host, u.port);
  if (!ep.ok()) return ep.error();
  Url origin = u;
  origin.path = "/";
  rendered_origins_.push_back({origin, *ep});
  return static_cast<int>(plan_.origins.size() + rendered_origins_.size() - 1);
}

H2Pool& VuWorker::H2PoolFor(int origin) {
  if (static_cast<size_t>(origin) >= h2_pools_.size()) h2_pools_.resize(static_cast<size_t>(origin) + 1);
  auto& p = h2_pools_[static_cast<size_t>(origin)];
  if (p == nullptr) {
    const Origin& o = OriginAt(origin);
    p = std::make_unique<H2Pool>(
        poller_, o.url.tls() ? plan_.tls_h2.get() : nullptr, buf_, o.endpoint, o.url.host, plan_.def.http_streams,
        plan_.default_timeout,
        [this](H2Pool::Request& r, uint32_t code, std::optional<Failure> failure, Nanos now) {
          H2Done(r, code, failure, now);
        },
        [this](int64_t sent, int64_t received, int64_t opened) {
          // Traffic of a shared connection belongs to no one VU: counted without tags.
          if (sent > 0) rec_.Count("data_sent", Tags{}, sent);
          if (received > 0) rec_.Count("data_received", Tags{}, received);
          if (opened > 0) rec_.Count("http_connections_opened", Tags{}, opened);
        });
  }
  return *p;
}

void VuWorker::StartH2(Vu& vu, Nanos now) {
  vu.t_start = vu.sent = now;
  vu.deadline = now + vu.req->timeout.value_or(plan_.default_timeout);
  vu.h2 = nullptr;
  // As on HTTP/1.1, except that a reset fails only this request's stream: the connection
  // is shared with other VUs' streams, which a reset of one request must not fail.
  FaultDecision fault = DecideFaultFor(vu, now);
  switch (fault.action) {
    case FaultDecision::Action::kLose:
      vu.state = Vu::State::kFaultHeld;  // lost on the way: fails at its timeout
      return;
    case FaultDecision::Action::kReset: FailRequest(vu, Failure::kReset, now); return;
    case FaultDecision::Action::kHold: HoldForFault(vu, now + fault.hold); return;
    case FaultDecision::Action::kPass: break;
  }
  SendH2(vu, now);
}

void VuWorker::SendH2(Vu& vu, Nanos now) {
  int origin = plan_.origin_of.at(vu.req);
  const h2::H2Request* compiled_once = nullptr;
  std::optional<h2::H2Request> rendered;
  if (auto it = plan_.h2_static.find(vu.req); it != plan_.h2_static.end()) {
    compiled_once = &it->second;
  } else {
    const RequestBuilder& b = plan_.builders.at(vu.req);
    auto spec = b.RenderSpec(vu);
    if (spec.ok() && b.dynamic_origin()) {
      auto index = OriginFor(spec->url);
      if (!index.ok())
        spec = index.error();
      else
        origin = *index;
    }
    auto compiled = spec.ok() ? h2::H2Request::Compile(spec->method, spec->url, spec->headers, spec->body)
                              : Result<h2::H2Request>(spec.error());
    if (!compiled.ok()) {
      if (stats_.render_failures++ == 0) {
        stats_.messages.push_back(fmt::format("request {}: {} (iterations that cannot render a request end there)",
                                              vu.req->name, compiled.error().message));
      }
      EndIteration(vu, now, false);
      return;
    }
    rendered.emplace(std::move(compiled).value());
  }
  H2Pool& pool = H2PoolFor(origin);
  H2Pool::Request* r = pool.NewRequest();
  if (compiled_once != nullptr)
    r->request = compiled_once;
  else
    r->own.emplace(std::move(*rendered));
  r->owner = &vu;
  bool collect = !vu.req->checks.empty() || !vu.req->captures.empty();
  r->observer = collect ? &r->collector : nullptr;
  vu.state = Vu::State::kH2;
  vu.h2 = r;
  vu.h2_origin = origin;
  pool.Submit(r, now);
}

void VuWorker::H2Done(H2Pool::Request& r, uint32_t code, std::optional<Failure> failure, Nanos now) {
  Vu& vu = *static_cast<Vu*>(r.owner);
  vu.h2 = nullptr;
  if (FaultsOn(vu, now).blackhole) {
    vu.state = Vu::State::kFaultHeld;  // what arrives during a blackhole is lost: it times out
    return;
  }
  vu.state = Vu::State::kIdle;
  if (code == 0) {
    RecordResponse(vu, r.status, &r.collector, http1::H1Timings{}, now);
    Advance(vu, now);
    return;
  }
  FailRequest(vu, code == h2::kConnectionLost ? failure.value_or(Failure::kReset) : Failure::kReset, now);
}

void VuWorker::AbandonH2(Vu& vu) {
  if (vu.h2 == nullptr) return;
  h2_pools_[static_cast<size_t>(vu.h2_origin)]->Abandon(vu.h2);
  vu.h2 = nullptr;
}

void VuWorker::Complete(Vu& vu, Nanos now) {
  vu.state = Vu::State::kIdle;
  vu.throttled = false;
  RecordResponse(vu, vu.http->parser().status(), vu.collector.get(), vu.http->timings(), now);
  Advance(vu, now);
}

void VuWorker::RecordResponse(Vu& vu, int status, const ResponseCollector* collector, const http1::H1Timings& t,
                              Nanos now) {
  vu.iter_ok = true;
  const RequestStep& req = *vu.req;
  const RequestSeries& series = series_.Request(vu.base_id, req, vu.group, status, vu.exec->open());
  // k6's phases that the event loop can tell apart. http_req_blocked, _sending and
  // _receiving are not recorded: one event batch shares one clock reading, so a write and
  // a whole response read in one batch would show as 0 µs every time (the HTTP-client
  // issue measures them). Open executors: an iteration that started late carries its lag into
  // every request's duration (measured from when it would have been sent on schedule).
  Nanos sent = vu.sent != 0 ? vu.sent : t.sent != 0 ? t.sent : vu.t_start;
  Nanos written = t.written != 0 ? t.written : sent;
  Nanos first = t.first_byte != 0 ? t.first_byte : now;
  Nanos duration = now - sent + vu.lag;
  series.reqs.Count(1);
  series.duration.Trend(duration);
  series.failed.Rate(status < 200 || status >= 400);
  series.connecting->AddTrend(t.connected != 0 ? t.connected - t.connect : 0);
  series.tls->AddTrend(t.secured != 0 ? t.secured - t.connected : 0);
  series.waiting->AddTrend(first - written);
  if (series.service != nullptr) series.service->AddTrend(now - sent);
  if (!req.checks.empty() || !req.captures.empty()) {
    ResponseView view{status, &collector->headers(), collector->body(), duration};
    ResponseEvaluator ev(view);
    for (size_t i = 0; i < req.checks.size(); ++i) series.checks[i].Rate(ev.Evaluate(req.checks[i]));
    for (const Capture& c : req.captures) {
      bool typed = false;
      auto v = ev.Extract(c, &typed);
      if (typed)
        vu.json_vars.insert(c.as);
      else
        vu.json_vars.erase(c.as);
      if (v) {
        vu.vars[c.as] = *v;
      } else {
        vu.vars.erase(c.as);
        store_.Count("capture_failures", {{"scenario", vu.exec->def->name}, {"name", req.name}, {"capture", c.as}});
      }
    }
  }
}

void VuWorker::FailUnsent(Exec& e, Failure kind) {
  // Counted as a failed request of the scenario's first step (quick's one request).
  const auto* req = e.def->flow.empty() ? nullptr : std::get_if<RequestStep>(&e.def->flow.front().body);
  if (req != nullptr) {
    if (e.unsent_base < 0) e.unsent_base = series_.Intern({{"scenario", e.def->name}});
    const RequestSeries& series = series_.Request(e.unsent_base, *req, "", 0);
    series.reqs.Count(1);
    series.failed.Rate(true);
    for (const SeriesPair& check : series.checks) check.Rate(false);
  }
  rec_.Count("http_req_errors", Tags{{"scenario", e.def->name}, {"kind", FailureName(kind)}});
}

void VuWorker::FailRequest(Vu& vu, Failure kind, Nanos now) {
  const bool unreached = kind == Failure::kConnect || kind == Failure::kConnectTimeout ||
                         kind == Failure::kLocalLimit || kind == Failure::kTls;
  if (unreached)
    ++vu.iter_failures;
  else
    vu.iter_ok = true;
  const RequestStep& req = *vu.req;
  const RequestSeries& series = series_.Request(vu.base_id, req, vu.group, 0);
  series.reqs.Count(1);
  series.failed.Rate(true);
  Tags error_tags{{"scenario", vu.exec->def->name}, {"kind", FailureName(kind)}};
  rec_.Count("http_req_errors", error_tags);
  for (const SeriesPair& check : series.checks) check.Rate(false);
  for (const Capture& c : req.captures) vu.vars.erase(c.as);
  vu.http->Close();
  vu.throttled = false;
  vu.state = Vu::State::kIdle;
  // k6 goes on with the iteration after a failed request.
  Advance(vu, now);
}

Nanos VuWorker::NextWake(Nanos now) const {
  Nanos wake = now + kScanInterval;  // also bounds the per-second publish
  if (!timers_.empty()) wake = std::min(wake, timers_.front().at);
  for (const auto& e : execs_) {
    if (e->finished) continue;
    if (!e->started) wake = std::min(wake, e->start);
    if (e->constant && !e->constant->done()) wake = std::min(wake, e->constant->next());
    if (e->ramp && !e->ramp->done()) wake = std::min(wake, e->start + e->ramp->next());
    if (now < e->end)
      wake = std::min(wake, e->end);
    else
      wake = std::min(wake, std::max(now, e->hard_end));
  }
  return std::max(wake, now);
}

void VuWorker::Run() {
  OpenPools();
  SetUpExecutors();
  Preconnect();
  start_ = gate_.ReadyAndWait();
  StartExecutors();
  std::vector<epoll_event> events(kMaxEvents);
  Nanos next_scan = start_ + kScanInterval;
  next_publish_ = start_ + kSecond;
  for (;;) {
    Nanos now = MonotonicClock::ReadNow();
    while (now >= next_publish_) {
      intervals_->Publish({index_, (next_publish_ - start_) / kSecond, false, std::move(interval_)});
      interval_ = MetricStore();
      series_.NewInterval();
      next_publish_ += kSecond;
      if (live_ != nullptr) {
        std::vector<SeriesAggregate> aggs;
        for (const ThresholdDef* t : plan_.abort_thresholds)
          aggs.push_back(store_.Select(t->selector.metric, t->selector.tags));
        live_->Publish(index_, std::move(aggs));
      }
    }
    while (!timers_.empty() && timers_.front().at <= now) {
      std::pop_heap(timers_.begin(), timers_.end(), std::greater<>());
      Timer t = timers_.back();
      timers_.pop_back();
      if (t.vu->timer_seq != t.seq) continue;
      if (t.vu->state == Vu::State::kThinking) {
        t.vu->state = Vu::State::kIdle;
        Advance(*t.vu, now);
      } else if (t.vu->state == Vu::State::kBackoff) {
        Vu& v = *t.vu;
        v.state = Vu::State::kIdle;
        const Exec& e = *v.exec;
        bool wanted = e.def->executor != ExecutorKind::kRampingVus || v.index < e.wanted;
        if (!e.finished && now < e.end && wanted && !interrupted_.load(std::memory_order_relaxed)) {
          StartIteration(v, now, now);
        }
      } else if (t.vu->state == Vu::State::kStep && t.vu->step != nullptr) {
        t.vu->step->OnTimer(now);
      } else if (t.vu->state == Vu::State::kFaultHeld) {
        // A latency fault's hold is over; a blackhole that began meanwhile keeps it lost.
        Vu& v = *t.vu;
        if (!FaultsOn(v, now).blackhole) {
          if (plan_.def.http_version == 2)
            SendH2(v, now);
          else
            SendRequest(v, now);
        }
      } else if (t.vu->state == Vu::State::kHttp1 && t.vu->throttled) {
        t.vu->throttled = false;
        t.vu->http->Resume(now);
      }
    }
    for (auto& e : execs_) Tick(*e, now);
    if (now >= next_scan) {
      next_scan = now + kScanInterval;
      int64_t active = 0;
      for (auto& e : execs_) {
        int64_t in_scenario = 0;
        for (auto& vu : e->vus) in_scenario += vu->busy ? 1 : 0;
        active_by_scenario_[static_cast<size_t>(e->scenario)].store(in_scenario, std::memory_order_relaxed);
        active += in_scenario;
      }
      active_vus_.store(active, std::memory_order_relaxed);
      for (auto& p : pools_) p->Scan(now);
      for (auto& p : h2_pools_) {
        if (p != nullptr) p->Scan(now);
      }
      for (auto& e : execs_) {
        for (auto& vu : e->vus) {
          bool waiting =
              vu->state == Vu::State::kHttp1 || vu->state == Vu::State::kH2 || vu->state == Vu::State::kFaultHeld;
          if (waiting && now >= vu->deadline && vu->state == Vu::State::kH2) {
            AbandonH2(*vu);
            FailRequest(*vu, Failure::kTimeout, now);
            continue;
          }
          // A connect that times out points at a full accept queue or a dropped SYN, not at a
          // slow answer: its own kind, for the bottleneck findings.
          if (waiting && now >= vu->deadline) {
            bool connecting =
                vu->state == Vu::State::kHttp1 && vu->http->phase() == http1::H1Client::Phase::kConnecting;
            FailRequest(*vu, connecting ? Failure::kConnectTimeout : Failure::kTimeout, now);
          }
        }
      }
    }
    if (std::all_of(execs_.begin(), execs_.end(), [](const auto& e) { return e->finished; })) break;
    // HTTP/2 frames queued by this round (requests started by timers, ticks or the events
    // just handled) go out before the loop sleeps.
    for (auto& p : h2_pools_) {
      if (p != nullptr) p->FlushPending(now);
    }
    int n = poller_.Wait(events.data(), kMaxEvents, NextWake(now) - now);
    for (int i = 0; i < n; ++i) {
      auto* h = static_cast<IoHandler*>(events[static_cast<size_t>(i)].data.ptr);
      h->OnIo(events[static_cast<size_t>(i)].events, MonotonicClock::ReadNow());
    }
    retired_.clear();
  }
  for (auto& e : execs_) {
    for (auto& vu : e->vus) {
      vu->http->Close();
      if (vu->step != nullptr) vu->step->Abort(MonotonicClock::ReadNow());
    }
  }
  // The final piece follows the last full second, whatever time it is now, so that every
  // worker's seconds are contiguous.
  intervals_->Publish({index_, (next_publish_ - start_) / kSecond, true, std::move(interval_)});
}

}  // namespace loadcell
