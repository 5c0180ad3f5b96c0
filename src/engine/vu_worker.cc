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

#include <filesystem>

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

}  // namespace

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
      runner_(RunnerSetup{&plan.def.scenarios, &plan.segment, index, plan.threads, plan.shared_iterations.get(),
                          plan.default_timeout},
              *this, clock_, stop, force),
      unsent_base_(plan.def.scenarios.size(), -1),
      buf_(kReadBuffer),
      scenarios_(plan.def.scenarios.size()),
      active_by_scenario_(std::make_unique<std::atomic<int64_t>[]>(plan.def.scenarios.size())) {
  if (plan.def.uses_lua || !plan.def.script_file.empty()) {
    script::HostOptions o;
    o.script_file = plan.def.script_file;
    o.script_text = plan.def.script_text;
    o.base_dir = std::filesystem::path(plan.def.file).parent_path().string();
    o.seed = plan.seed ^ (static_cast<uint64_t>(index + 1) * 0xD1B54A32D192ED03ULL);
    auto host = script::LuaHost::Make(o);
    if (host.ok())
      lua_ = std::move(host).value();
    else
      stats_.messages.push_back(fmt::format("script: {}", host.error().message));
  }
}

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
  Nanos until = clock_.Now() + kPoolOpenWait;
  for (;;) {
    Nanos now = clock_.Now();
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
          ->OnIo(events[static_cast<size_t>(i)].events, clock_.Now());
    }
  }
}

void VuWorker::Preconnect() {
  // quick -R: every connection up before the start, as wrk2 and quick always did; made at
  // the first arrivals instead, hundreds of connects in one pass of the loop made the
  // first arrivals start milliseconds late.
  bool any = false;
  Nanos now = clock_.Now();
  for (const auto& e : runner_.executors()) {
    if (!e->def->queue_arrivals || plan_.def.http_version != 1 || e->def->flow.empty()) continue;
    const auto* req = std::get_if<RequestStep>(&e->def->flow.front().body);
    if (req == nullptr || plan_.builders.at(req).dynamic_origin()) continue;
    const http1::H1Target& to = H1TargetAt(plan_.origin_of.at(req));
    for (VuSlot* vu : e->vus) static_cast<Vu*>(vu)->http.Open(to, now);
    any = true;
  }
  if (!any) return;
  std::vector<epoll_event> events(kMaxEvents);
  const Nanos deadline = now + std::min<Nanos>(plan_.default_timeout, 5 * kSecond);
  auto connecting = [this] {
    return std::any_of(vus_.begin(), vus_.end(), [](const auto& vu) { return vu->http.busy(); });
  };
  while (connecting() && clock_.Now() < deadline && !interrupted_.load(std::memory_order_relaxed)) {
    int n = poller_.Wait(events.data(), kMaxEvents, 10 * kMilli);
    for (int i = 0; i < n; ++i) {
      auto* h = static_cast<IoHandler*>(events[static_cast<size_t>(i)].data.ptr);
      h->OnIo(events[static_cast<size_t>(i)].events, clock_.Now());
    }
  }
  // Still connecting at the deadline: dropped; their first request connects again.
  for (auto& vu : vus_) {
    if (vu->http.busy()) vu->http.Close();
  }
}

VuSlot& VuWorker::NewVu(Executor& e, int64_t index, int64_t id) {
  auto vu = std::make_unique<Vu>(e, h1_env_);
  vu->index = index;
  vu->id = id;
  RenderScenarioTags(*vu);
  ++stats_.vus_max;
  vus_.push_back(std::move(vu));
  return *vus_.back();
}

void VuWorker::RenderScenarioTags(Vu& vu) {
  const ScenarioDef& d = *vu.exec->def;
  Tags base;
  base["scenario"] = d.name;
  for (const auto& [k, t] : d.tags) {
    auto v = t.Render(vu);
    base[k] = v.ok() ? *v : "";
  }
  vu.base_id = series_.Intern(base);
}

void VuWorker::WakeForBackoff(VuSlot& slot, Nanos at) {
  Vu& vu = static_cast<Vu&>(slot);
  vu.timer_seq = ++timer_seq_;
  timers_.push_back({at, &vu, vu.timer_seq});
  std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
}

void VuWorker::Dropped(Executor& e) {
  store_.Count("dropped_iterations", {{"scenario", e.def->name}});
  interval_.Count("dropped_iterations", {{"scenario", e.def->name}});
}

void VuWorker::Delayed(Executor& e) { rec_.Count("delayed_iterations", Tags{{"scenario", e.def->name}}); }

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
  Nanos wake = runner_.NextWake(now, kScanInterval);  // the scan interval also bounds the per-second publish
  if (!timers_.empty()) wake = std::min(wake, timers_.front().at);
  return std::max(wake, now);
}

void VuWorker::Run() {
  OpenPools();
  h2_pools_.resize(plan_.origins.size());  // grows as templated URLs render to other origins
  runner_.SetUp();
  // Arrival-rate executors wake for each arrival: the default 50 us timer slack would show
  // up as their start lag (and, with quick -R, as send lag).
  const auto& execs = runner_.executors();
  if (std::any_of(execs.begin(), execs.end(), [](const auto& e) { return e->open(); })) {
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  }
  Preconnect();
  start_ = gate_.ReadyAndWait();
  runner_.Start(start_);
  std::vector<epoll_event> events(kMaxEvents);
  Nanos next_scan = start_ + kScanInterval;
  next_publish_ = start_ + kSecond;
  for (;;) {
    Nanos now = clock_.Now();
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
        runner_.BackoffOver(*t.vu, now);
      } else if (ActiveStep* step = t.vu->active_step()) {
        step->OnTimer(now);
      }
    }
    runner_.Tick();
    if (now >= next_scan) {
      next_scan = now + kScanInterval;
      int64_t active = 0;
      for (const auto& e : runner_.executors()) {
        int64_t in_scenario = 0;
        for (const VuSlot* vu : e->vus) in_scenario += vu->busy ? 1 : 0;
        active_by_scenario_[static_cast<size_t>(e->scenario)].store(in_scenario, std::memory_order_relaxed);
        active += in_scenario;
      }
      active_vus_.store(active, std::memory_order_relaxed);
      for (auto& p : pools_) p->Scan(now);
      for (auto& p : h2_pools_) {
        if (p != nullptr) p->Scan(now);
      }
      for (auto& vu : vus_) {
        if (ActiveStep* step = vu->active_step()) step->OnScan(now);
      }
    }
    if (runner_.finished()) break;
    // HTTP/2 frames queued by this round (requests started by timers, ticks or the events
    // just handled) go out before the loop sleeps.
    for (auto& p : h2_pools_) {
      if (p != nullptr) p->FlushPending(now);
    }
    int n = poller_.Wait(events.data(), kMaxEvents, NextWake(now) - now);
    for (int i = 0; i < n; ++i) {
      auto* h = static_cast<IoHandler*>(events[static_cast<size_t>(i)].data.ptr);
      h->OnIo(events[static_cast<size_t>(i)].events, clock_.Now());
    }
    retired_.clear();
  }
  for (auto& vu : vus_) {
    if (ActiveStep* step = vu->active_step()) step->Abort(clock_.Now());
    vu->http.Close();
  }
  // The final piece follows the last full second, whatever time it is now, so that every
  // worker's seconds are contiguous.
  intervals_->Publish({index_, (next_publish_ - start_) / kSecond, true, std::move(interval_)});
}

}  // namespace loadcell
