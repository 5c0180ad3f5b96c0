#include "engine/executor_runner.h"

#include <algorithm>

namespace loadcell {
namespace {

std::vector<RateStage> ToRateStages(const std::vector<Stage>& stages) {
  std::vector<RateStage> out;
  for (const Stage& s : stages) out.push_back({s.duration, s.target});
  return out;
}

}  // namespace

ExecutorRunner::ExecutorRunner(const RunnerSetup& setup, IterationHost& host, const Clock& clock,
                               const std::atomic<bool>& stop, const std::atomic<bool>& force)
    : setup_(setup), host_(host), clock_(clock), stop_(stop), force_(force) {}

void ExecutorRunner::SetUp() {
  const int n = setup_.workers;
  const int index = setup_.worker;
  const ExecutionSegment& segment = *setup_.segment;
  const ExecutionSegment* striped = segment.whole() ? nullptr : &segment;
  int64_t id_base = 0;
  for (size_t si = 0; si < setup_.scenarios->size(); ++si) {
    const ScenarioDef& d = (*setup_.scenarios)[si];
    auto e = std::make_unique<Executor>();
    e->host = &host_;
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
        e->ramp.emplace(d.start_rate, d.time_unit, ToRateStages(d.stages), index, n, striped);
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
    Executor& ex = *e;
    execs_.push_back(std::move(e));
    if (ex.open()) {
      // At least one VU wherever arrivals are owned, or they would all be dropped.
      auto share = [&](int64_t v) {
        return striped == nullptr ? v : std::max<int64_t>(v > 0 ? 1 : 0, segment.Scale(v));
      };
      int64_t pre_all = share(d.pre_allocated_vus), max_all = share(d.max_vus);
      int64_t pre = pre_all / n + (index < pre_all % n ? 1 : 0);
      ex.max_vus = max_all / n + (index < max_all % n ? 1 : 0);
      ex.next_vu_index = index;
      for (int64_t i = 0; i < pre; ++i) {
        ex.idle.push_back(&AddVu(ex, ex.next_vu_index));
        ex.next_vu_index += n;
      }
    } else {
      for (int64_t k = index; k < segment.Scale(total_vus); k += n) AddVu(ex, k);
    }
    id_base += total_vus;
  }
}

VuSlot& ExecutorRunner::AddVu(Executor& e, int64_t index) {
  VuSlot& vu = host_.NewVu(e, index, e.id_base + setup_.segment->GlobalIndex(index) + 1);
  e.vus.push_back(&vu);
  return vu;
}

void ExecutorRunner::Start(Nanos start) {
  const ExecutionSegment* striped = setup_.segment->whole() ? nullptr : setup_.segment;
  for (auto& e : execs_) {
    e->start += start;
    e->end += start;
    e->hard_end += start;
    const ScenarioDef& d = *e->def;
    if (d.executor == ExecutorKind::kConstantArrivalRate) {
      e->constant.emplace(e->start, e->end, d.rate * static_cast<double>(kSecond) / static_cast<double>(d.time_unit),
                          setup_.worker, setup_.workers, striped);
    }
  }
}

bool ExecutorRunner::Continues(Executor& e, VuSlot& vu, Nanos now) {
  if (e.finished || now >= e.end || stop_.load(std::memory_order_relaxed)) return false;
  const ScenarioDef& d = *e.def;
  switch (d.executor) {
    case ExecutorKind::kConstantVus: return true;
    case ExecutorKind::kRampingVus: return vu.index < e.wanted;
    case ExecutorKind::kPerVuIterations: return vu.iterations_done < d.iterations;
    case ExecutorKind::kSharedIterations:
      return setup_.shared_iterations[static_cast<size_t>(e.scenario)].fetch_add(1, std::memory_order_relaxed) <
             e.iterations;
    default: return false;  // open executors: the schedule starts iterations
  }
}

void ExecutorRunner::IterationEnded(VuSlot& vu, Nanos now, bool completed, Nanos backoff) {
  Executor& e = *vu.exec;
  vu.busy = false;
  vu.ramp_down_at = 0;
  if (completed) ++vu.iterations_done;
  if (e.open()) {
    vu.state = VuSlot::State::kIdle;
    if (!e.finished) e.idle.push_back(&vu);
    return;
  }
  if (!Continues(e, vu, now)) {
    vu.state = VuSlot::State::kIdle;
    return;
  }
  if (backoff > 0) {
    vu.state = VuSlot::State::kBackoff;
    host_.WakeForBackoff(vu, now + backoff);
    return;
  }
  host_.StartIteration(vu, now, now);
}

void ExecutorRunner::BackoffOver(VuSlot& vu, Nanos now) {
  vu.state = VuSlot::State::kIdle;
  const Executor& e = *vu.exec;
  bool wanted = e.def->executor != ExecutorKind::kRampingVus || vu.index < e.wanted;
  if (!e.finished && now < e.end && wanted && !stop_.load(std::memory_order_relaxed))
    host_.StartIteration(vu, now, now);
}

void ExecutorRunner::Finish(Executor& e) {
  e.finished = true;
  for (VuSlot* vu : e.vus) {
    if (!vu->busy) vu->state = VuSlot::State::kStopped;
  }
}

void ExecutorRunner::Tick() {
  const Nanos now = clock_.Now();
  for (auto& e : execs_) Tick(*e, now);
}

void ExecutorRunner::Tick(Executor& e, Nanos now) {
  if (e.finished || now < e.start) return;
  const ScenarioDef& d = *e.def;
  const bool stopping = stop_.load(std::memory_order_relaxed);
  if (!e.started) {
    e.started = true;
    if (!e.open() && d.executor != ExecutorKind::kRampingVus) {
      for (VuSlot* vu : e.vus) {
        if (Continues(e, *vu, now)) host_.StartIteration(*vu, now, now);
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
    for (VuSlot* vu : e.vus) {
      if (!vu->busy && vu->state != VuSlot::State::kBackoff && vu->index < e.wanted && !stopping) {
        host_.StartIteration(*vu, now, now);
      } else if (vu->busy && vu->index >= e.wanted && now < e.end) {
        // Ramped down mid-iteration: it may finish within graceful_ramp_down, then it is cut.
        if (vu->ramp_down_at == 0) {
          vu->ramp_down_at = now + d.graceful_ramp_down;
        } else if (now >= vu->ramp_down_at) {
          host_.Interrupt(*vu);
        }
      }
    }
  }
  if (e.open() && !stopping) {
    auto free_vu = [&]() -> VuSlot* {
      if (!e.idle.empty()) {
        VuSlot* vu = e.idle.front();
        e.idle.pop_front();
        return vu;
      }
      if (static_cast<int64_t>(e.vus.size()) < e.max_vus) {
        // VUs are added on demand up to max_vus.
        VuSlot* vu = &AddVu(e, e.next_vu_index);
        e.next_vu_index += setup_.workers;
        return vu;
      }
      return nullptr;
    };
    if (d.queue_arrivals) {
      // Waiting arrivals first, oldest first; one that waited a whole request timeout fails
      // as a timeout (it would have, sent: its timeout counts from its intended time).
      while (!e.queued.empty() && now - e.queued.front() >= setup_.queue_expiry) {
        e.queued.pop_front();
        host_.Unsent(e);
      }
      while (!e.queued.empty()) {
        VuSlot* vu = free_vu();
        if (vu == nullptr) break;
        Nanos scheduled = e.queued.front();
        e.queued.pop_front();
        host_.StartIteration(*vu, now, scheduled);
      }
    }
    auto due = [&](Nanos scheduled) {
      VuSlot* vu = e.queued.empty() ? free_vu() : nullptr;
      if (vu == nullptr && d.queue_arrivals) {
        e.queued.push_back(scheduled);
        host_.Delayed(e);
        return;
      }
      if (vu == nullptr) {
        host_.Dropped(e);  // no VU free: k6 drops the iteration rather than delay it
        return;
      }
      host_.StartIteration(*vu, now, scheduled);
    };
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
  bool any_busy = std::any_of(e.vus.begin(), e.vus.end(), [](const VuSlot* v) { return v->busy; });
  bool can_start = now < e.end && !stopping;
  if (e.open()) can_start = can_start && !(e.constant ? e.constant->done() : e.ramp->done());
  // Arrivals still waiting may start until the graceful stop is over.
  if (!e.queued.empty() && now < e.hard_end && !stopping) can_start = true;
  if (!e.open() && d.executor != ExecutorKind::kRampingVus) {
    // Started at once, they continue from IterationEnded (or after a back-off).
    can_start = can_start && std::any_of(e.vus.begin(), e.vus.end(),
                                         [](const VuSlot* v) { return v->state == VuSlot::State::kBackoff; });
  }
  if (!can_start && !e.queued.empty()) {
    // Never sent: the graceful stop ended (or the run was interrupted) while they waited.
    for (; !e.queued.empty(); e.queued.pop_front()) host_.Unsent(e);
  }
  if ((now >= e.hard_end || force_.load(std::memory_order_relaxed)) && any_busy) {
    for (VuSlot* vu : e.vus) {
      if (vu->busy) host_.Interrupt(*vu);
      vu->state = VuSlot::State::kStopped;
    }
    any_busy = false;
  }
  if (!any_busy && !can_start) e.finished = true;
}

Nanos ExecutorRunner::NextWake(Nanos now, Nanos max_wait) const {
  Nanos wake = now + max_wait;
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

bool ExecutorRunner::finished() const {
  return std::all_of(execs_.begin(), execs_.end(), [](const auto& e) { return e->finished; });
}

}  // namespace loadcell
