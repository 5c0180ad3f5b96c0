#include "engine/vu_worker.h"

#include <sys/prctl.h>
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
#include "engine/vu_state.h"
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
    const http1::H1Target& to = H1TargetAt(plan_.origin_of.at(req));
    for (auto& vu : e->vus) vu->http.Open(to, now);
    any = true;
  }
  if (!any) return;
  std::vector<epoll_event> events(kMaxEvents);
  const Nanos deadline = now + std::min<Nanos>(plan_.default_timeout, 5 * kSecond);
  auto connecting = [this] {
    for (auto& e : execs_) {
      for (auto& vu : e->vus) {
        if (vu->http.busy()) return true;
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
      if (vu->http.busy()) vu->http.Close();
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
    e->worker = this;
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
  auto vu = std::make_unique<Vu>(e, h1_env_);
  vu->index = index;
  vu->id = e.id_base + plan_.segment.GlobalIndex(index) + 1;
  Tags base;
  base["scenario"] = d.name;
  for (const auto& [k, t] : d.tags) {
    auto v = t.Render(*vu);
    base[k] = v.ok() ? *v : "";
  }
  vu->base_id = series_.Intern(base);
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
        Nanos& ramp_down_at = vu->X().ramp_down_at;
        if (ramp_down_at == 0) {
          ramp_down_at = now + d.graceful_ramp_down;
        } else if (now >= ramp_down_at) {
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

void VuWorker::Note(const std::string& key, const std::string& message) {
  if (noted_.insert(key).second) stats_.messages.push_back(Printable(message));
}

void VuWorker::Sleep(Vu& vu, Nanos until, bool for_step) {
  vu.state = for_step ? Vu::State::kStep : Vu::State::kThinking;
  vu.timer_seq = ++timer_seq_;
  timers_.push_back({until, &vu, vu.timer_seq});
  std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
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
  // Arrival-rate executors wake for each arrival: the default 50 us timer slack would show
  // up as their start lag (and, with quick -R, as send lag).
  if (std::any_of(execs_.begin(), execs_.end(), [](const auto& e) { return e->open(); })) {
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  }
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
      } else if (t.vu->state == Vu::State::kStep && t.vu->extra != nullptr && t.vu->extra->step != nullptr) {
        t.vu->extra->step->OnTimer(now);
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
        t.vu->http.Resume(now);
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
            bool connecting = vu->state == Vu::State::kHttp1 && vu->http.phase() == http1::H1Client::Phase::kConnecting;
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
      vu->http.Close();
      if (vu->extra != nullptr && vu->extra->step != nullptr) vu->extra->step->Abort(MonotonicClock::ReadNow());
    }
  }
  // The final piece follows the last full second, whatever time it is now, so that every
  // worker's seconds are contiguous.
  intervals_->Publish({index_, (next_publish_ - start_) / kSecond, true, std::move(interval_)});
}

}  // namespace loadcell
