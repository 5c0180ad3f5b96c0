// The step interpreter: a VU's iterations and the steps of its flow. Protocol steps
// (request: vu_http.cc; ws: ws_session.cc; sql: sql_query.cc) are ActiveSteps.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "engine/sql_query.h"
#include "engine/vu_state.h"
#include "engine/ws_session.h"

namespace loadcell {
namespace {

constexpr Nanos kMinBackoff = 10 * kMilli;
constexpr Nanos kMaxBackoff = kSecond;

}  // namespace

void VuWorker::Interrupt(VuSlot& slot) {
  Vu& vu = static_cast<Vu&>(slot);
  ++stats_.interrupted;
  if (ActiveStep* step = vu.active_step()) step->Abort(clock_.Now());
  // Freed after the event batch: the step may be on the call stack.
  if (vu.extra != nullptr && vu.extra->step != nullptr) retired_.push_back(std::move(vu.extra->step));
  vu.http.Close();  // the connection of a cut iteration is not reused
  vu.throttled = false;
  vu.busy = false;
  vu.ramp_down_at = 0;
  vu.state = Vu::State::kIdle;  // a pending think timer finds it idle and is ignored
  vu.ClearFrames();
}

void VuWorker::StartIteration(VuSlot& slot, Nanos now, Nanos scheduled) {
  Vu& vu = static_cast<Vu&>(slot);
  Executor& e = *vu.exec;
  // Data rows for this iteration.
  for (size_t f = 0; f < plan_.def.data.size(); ++f) {
    std::vector<int64_t>& row_of = vu.X().rows;
    const DataFeeder& d = plan_.def.data[f];
    auto rows = static_cast<int64_t>(d.rows.size());
    switch (d.mode) {
      case DataFeeder::Mode::kSequential:
        // Rows are numbered as in the whole test: generators take disjoint rows.
        row_of[f] = plan_.segment.GlobalIndex(plan_.feeder_cursor[f].fetch_add(1, std::memory_order_relaxed)) % rows;
        break;
      case DataFeeder::Mode::kRandom: row_of[f] = static_cast<int64_t>(vu.Rng()() % static_cast<uint64_t>(rows)); break;
      case DataFeeder::Mode::kUnique: {
        int64_t r = plan_.segment.GlobalIndex(plan_.feeder_cursor[f].fetch_add(1, std::memory_order_relaxed));
        if (r >= rows) {
          if (!e.finished) {
            stats_.messages.push_back(
                fmt::format("scenario {}: data file {} exhausted after {} rows (mode unique); "
                            "the scenario ended",
                            e.def->name, d.file, rows));
          }
          runner_.Finish(e);
          return;
        }
        row_of[f] = r;
        break;
      }
    }
  }
  vu.busy = true;
  ++vu.iteration;
  if (plan_.def.uses_iteration_in_test) {
    // Numbered as in the whole test: generators take disjoint numbers (k6's iterationInTest).
    auto& counter = plan_.iterations_in_test[static_cast<size_t>(e.scenario)];
    vu.iteration_in_test = plan_.segment.GlobalIndex(counter.fetch_add(1, std::memory_order_relaxed));
  }
  if (e.def->tags_per_iteration) RenderScenarioTags(vu);
  vu.iter_start = scheduled;
  vu.iter_failures = 0;
  vu.iter_ok = false;
  vu.lag = std::max<Nanos>(0, now - scheduled);
  // Open executors: how late the iteration started against its schedule (the engine's
  // own send lag); the self-check warns when its p99 is above 1 ms.
  if (e.open()) series_.StartLag(vu.base_id).AddTrend(vu.lag);
  vu.ClearFrames();
  if (vu.extra != nullptr) vu.extra->group.clear();
  vu.root.steps = &e.def->flow;
  vu.root.end = static_cast<uint32_t>(e.def->flow.size());
  if (!e.def->init.empty() && !vu.X().initialized) {
    Vu::Frame init{&e.def->init, 0, static_cast<uint32_t>(e.def->init.size())};
    init.init = true;
    vu.Push(init);
  }
  Advance(vu, now);
}

void VuWorker::EndIteration(Vu& vu, Nanos now, bool completed) {
  vu.ClearFrames();
  if (plan_.keep_vars && vu.extra != nullptr) {
    stats_.vars.vars = {vu.extra->vars.begin(), vu.extra->vars.end()};
    stats_.vars.json_vars = {vu.extra->json_vars.begin(), vu.extra->json_vars.end()};
  }
  if (completed) {
    ++stats_.completed;
    series_.Vu(vu.base_id, SeriesCache::VuMetric::kIterations).Count(1);
    series_.Vu(vu.base_id, SeriesCache::VuMetric::kIterationDuration).Trend(now - vu.iter_start);
  }
  // A VU whose every step failed to reach its target (target or database down, out of file
  // descriptors) would loop at full speed and, when the failures are synchronous, recurse
  // until the stack overflows: it waits 10 ms, doubling to 1 s, until an iteration gets
  // through (closed executors; an open one's next iteration waits for its arrival anyway).
  // A request the target answered badly, reset or left unanswered got through: that is load
  // the target took, and the next iteration goes at once (as wrk does). An iteration that
  // ended in the event it started in (no I/O at all) goes on at the next turn of the loop
  // rather than recursing here.
  const bool all_failed = vu.iter_failures > 0 && !vu.iter_ok;
  vu.backoff = all_failed ? std::clamp<Nanos>(vu.backoff * 2, kMinBackoff, kMaxBackoff) : 0;
  const Nanos wait = vu.backoff > 0 || vu.iter_start == now ? std::max<Nanos>(vu.backoff, 1) : 0;
  // An iteration that failed (a template that could not render, a script error, a step that
  // ended it) is one of the VU's iterations all the same, as k6 counts it: a per-vu-iterations
  // VU does not retry it until max_duration.
  runner_.IterationEnded(vu, now, true, wait);
}

void VuWorker::Advance(Vu& vu, Nanos now) {
  for (;;) {
    Vu::Frame& f = vu.Top();
    if (f.next >= f.end) {
      if (f.while_step != nullptr) {
        if (!RepeatWhile(vu, now)) return;
        if (f.next == 0) continue;  // another pass
      }
      if (f.init) vu.X().initialized = true;
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
        Tags t = series_.BaseTags(vu.base_id);
        std::string& group = vu.X().group;
        t["group"] = group;
        store_.Trend("group_duration", t, now - f.group_start);
        group.resize(f.outer_group_size);
      }
      if (!vu.Pop()) {
        EndIteration(vu, now, true);
        return;
      }
      continue;
    }
    const Step& step = (*f.steps)[f.next++];
    if (const auto* r = std::get_if<RequestStep>(&step.body)) {
      vu.req = r;
      vu.request_step.Start(now);
      return;
    }
    if (const auto* t = std::get_if<ThinkStep>(&step.body)) {
      Nanos d = t->a;
      if (t->kind == ThinkStep::Kind::kUniform) {
        d = std::uniform_int_distribution<Nanos>(t->a, t->b)(vu.Rng());
      } else if (t->kind == ThinkStep::Kind::kExponential) {
        d = static_cast<Nanos>(std::exponential_distribution<double>(1.0 / static_cast<double>(t->a))(vu.Rng()));
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
      RunSet(vu, *s);
      continue;
    }
    if (const auto* i = std::get_if<IfStep>(&step.body)) {
      if (!RunIf(vu, *i, now)) return;
      continue;
    }
    if (const auto* w = std::get_if<WhileStep>(&step.body)) {
      if (!EnterWhile(vu, *w, now)) return;
      continue;
    }
    if (const auto* r = std::get_if<RecordStep>(&step.body)) {
      if (!RunRecord(vu, *r, now)) return;
      continue;
    }
    if (const auto* p = std::get_if<PickStep>(&step.body)) {
      double total = 0;
      for (double w : p->weights) total += w;
      double x = std::uniform_real_distribution<double>(0, total)(vu.Rng());
      size_t i = 0;
      while (i + 1 < p->weights.size() && x >= p->weights[i]) x -= p->weights[i++];
      vu.Push({&p->choices, static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1)});
      continue;
    }
    if (const auto* l = std::get_if<LoopStep>(&step.body)) {
      Vu::Frame lf{&l->steps, 0, static_cast<uint32_t>(l->steps.size()), l};
      if (l->condition) {
        auto v = l->condition->Render(vu);
        if (!v.ok() || v->empty() || *v == "0" || *v == "false") continue;
        lf.passes_left = l->max - 1;
      } else {
        if (l->count <= 0) continue;
        lf.passes_left = l->count - 1;
      }
      vu.Push(lf);
      continue;
    }
    if (const auto* g = std::get_if<GroupStep>(&step.body)) {
      Vu::Frame gf{&g->steps, 0, static_cast<uint32_t>(g->steps.size())};
      gf.group = g;
      gf.group_start = now;
      std::string& group = vu.X().group;
      gf.outer_group_size = static_cast<uint32_t>(group.size());
      group += "::" + g->name;
      vu.Push(gf);
      continue;
    }
  }
}

void VuWorker::RunSet(Vu& vu, const SetStep& step) {
  for (const auto& [name, tmpl] : step.values) {
    bool json = false;
    auto v = tmpl.RenderTyped(vu, &json);
    Vu::Extra& x = vu.X();
    if (v.ok() && json)
      x.json_vars.insert(name);
    else
      x.json_vars.erase(name);
    if (v.ok())
      x.vars[name] = *v;
    else
      x.vars.erase(name);
  }
}

bool VuWorker::RunIf(Vu& vu, const IfStep& step, Nanos now) {
  auto holds = step.cond.Truth(vu);
  if (!holds.ok()) {
    ScriptFailed(vu, holds.error(), now);
    return false;
  }
  const Steps& branch = *holds ? step.then_steps : step.else_steps;
  if (!branch.empty()) vu.Push({&branch, 0, static_cast<uint32_t>(branch.size())});
  return true;
}

namespace {
void CountWhileExit(Recorder& rec, const Tags& base, const std::string& group, const WhileStep& w, const char* reason) {
  Tags t = base;
  t["group"] = group;
  t["name"] = w.name;
  t["reason"] = reason;
  rec.Count("while_exits", t);
}
}  // namespace

bool VuWorker::EnterWhile(Vu& vu, const WhileStep& step, Nanos now) {
  auto holds = step.cond.Truth(vu);
  if (!holds.ok()) {
    ScriptFailed(vu, holds.error(), now);
    return false;
  }
  if (!*holds) {
    CountWhileExit(rec_, series_.BaseTags(vu.base_id), vu.group(), step, "condition");
    return true;
  }
  Vu::Frame f{&step.steps, 0, static_cast<uint32_t>(step.steps.size())};
  f.while_step = &step;
  f.passes_left = step.max_iterations - 1;
  f.group_start = now;
  vu.Push(f);
  return true;
}

bool VuWorker::RepeatWhile(Vu& vu, Nanos now) {
  Vu::Frame& f = vu.Top();
  const WhileStep& step = *f.while_step;
  const char* exit = nullptr;
  if (step.timeout > 0 && now - f.group_start >= step.timeout) {
    exit = "timeout";
  } else if (f.passes_left <= 0) {
    exit = "max_iterations";
  } else {
    auto holds = step.cond.Truth(vu);
    if (!holds.ok()) {
      ScriptFailed(vu, holds.error(), now);
      return false;
    }
    if (!*holds) exit = "condition";
  }
  if (exit != nullptr) {
    CountWhileExit(rec_, series_.BaseTags(vu.base_id), vu.group(), step, exit);
    return true;  // the frame ends (f.next stays at its end)
  }
  --f.passes_left;
  f.next = 0;
  return true;
}

bool VuWorker::RunRecord(Vu& vu, const RecordStep& step, Nanos now) {
  auto v = step.value.is_script() ? step.value.Evaluate(vu) : Result<script::Value>(Error::Internal("no value"));
  if (!v.ok()) {
    ScriptFailed(vu, v.error(), now);
    return false;
  }
  Tags tags = series_.BaseTags(vu.base_id);
  tags["group"] = vu.group();
  for (const auto& [k, t] : step.tags) {
    auto tv = t.Render(vu);
    if (!tv.ok()) {
      ScriptFailed(vu, tv.error(), now);
      return false;
    }
    tags[k] = *tv;
  }
  if (step.type == MetricType::kRate) {
    rec_.Rate(step.metric, tags, v->truthy());
    return true;
  }
  char* end = nullptr;
  double x = v->json ? std::strtod(v->text.c_str(), &end) : 0;
  if (!v->json || end == v->text.c_str() || *end != '\0' || !std::isfinite(x)) {
    ScriptFailed(vu,
                 Error::InvalidArgument(
                     fmt::format("record {}: the value is not a number ({})", step.metric, v->text.substr(0, 60))),
                 now);
    return false;
  }
  switch (step.type) {
    case MetricType::kCounter: rec_.Count(step.metric, tags, std::llround(x)); break;
    case MetricType::kTrend: rec_.Trend(step.metric, tags, static_cast<Nanos>(std::max(0.0, x) * 1e6)); break;
    case MetricType::kGauge:
      store_.Gauge(step.metric, tags, x);
      interval_.Gauge(step.metric, tags, x);
      break;
    case MetricType::kRate: break;
  }
  return true;
}

void VuWorker::ScriptFailed(Vu& vu, const Error& error, Nanos now) {
  // The error was counted where Lua raised it (Vu::EvalScript); the iteration ends there:
  // its remaining steps depend on what failed.
  if (noted_.size() < 256)
    Note("script:" + error.message,
         fmt::format("scenario {}: {} (the iteration ended there)", vu.exec->def->name, error.message));
  ++vu.iter_failures;
  // The script failed, not the target: the next iteration goes at once — unless it spun
  // through its budget: then the VU waits the longest back-off (1 s) before its next
  // iteration, so that a spinning VU takes a tenth of its worker at most, and the other VUs
  // keep their rate.
  if (error.message.find("script_timeout") == std::string::npos) {
    vu.iter_ok = true;
  } else {
    vu.iter_ok = false;
    vu.backoff = kMaxBackoff;
  }
  EndIteration(vu, now, false);
}

void VuWorker::CountScriptError(const Vu& vu, const std::string& message) {
  const std::string* kept = &message;
  static const std::string kOther = "other";
  if (script_messages_.count(message) == 0) {
    if (script_messages_.size() >= kMaxInstances)
      kept = &kOther;
    else
      script_messages_.insert(message);
  }
  rec_.Count("script_errors", Tags{{"scenario", vu.exec->def->name}, {"message", *kept}});
}

void VuWorker::StartWs(Vu& vu, const WsStep& w, Nanos now) {
  Tags tags = series_.BaseTags(vu.base_id);
  tags["name"] = w.name;
  tags["group"] = vu.group();
  for (const auto& [k, v] : w.tags) tags[k] = v;
  const WsTarget& t = plan_.ws_targets.at(&w);
  WsSessionEnv env{&poller_, plan_.tls.get(), &buf_, &rec_, &OriginAt(t.origin).endpoint, plan_.default_timeout};
  vu.state = Vu::State::kStep;
  Vu::Extra& x = vu.X();
  x.step = std::make_unique<WsSession>(w, t.builder, env, x, std::move(tags), x.rng);
  x.step->Start(now);
}

void VuWorker::StepDone(Vu& vu, Nanos now, bool end_iteration) {
  // Freed after the event batch: the step is still on the call stack.
  retired_.push_back(std::move(vu.X().step));
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
  Tags tags = series_.BaseTags(vu.base_id);
  tags["name"] = q.name;
  tags["group"] = vu.group();
  tags["db"] = q.db;
  for (const auto& [k, v] : q.tags) tags[k] = v;
  vu.state = Vu::State::kStep;
  Vu::Extra& x = vu.X();
  x.step = std::make_unique<SqlQuery>(q, plan_.sql_statement.at(&q), *pools_[static_cast<size_t>(q.db_index)], rec_, x,
                                      std::move(tags), x.vars, vu.lag, plan_.default_timeout);
  x.step->Start(now);
}

}  // namespace loadcell
