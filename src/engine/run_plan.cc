#include "engine/run_plan.h"

#include <algorithm>

#include <fmt/format.h>

namespace loadcell {
namespace {

void ForEachStep(const Steps& steps, const std::function<void(const Step&)>& f) {
  for (const Step& s : steps) {
    f(s);
    ForEachInnerSteps(s, [&](const Steps& inner, const std::string*) { ForEachStep(inner, f); });
  }
}

// Index of `u`'s origin in the plan, resolved and added on first sight.
Result<int> OriginIndex(TestPlan& plan, const Url& u) {
  for (size_t i = 0; i < plan.origins.size(); ++i) {
    const Url& o2 = plan.origins[i].url;
    if (o2.scheme == u.scheme && o2.host == u.host && o2.port == u.port) return static_cast<int>(i);
  }
  auto ep = Resolve(u.host, u.port);
  if (!ep.ok()) return ep.error();
  plan.origins.push_back({u, *ep});
  return static_cast<int>(plan.origins.size() - 1);
}

}  // namespace

Result<std::unique_ptr<TestPlan>> PrepareTest(TestDefinition def, const RunOverrides& o, int threads, uint64_t seed,
                                              bool insecure) {
  auto plan = std::make_unique<TestPlan>();
  if (o.vus > 0 || o.duration > 0) {
    // k6: --vus/--duration turn a single-scenario test into constant-vus.
    if (def.scenarios.size() != 1) {
      return Error::InvalidArgument(
          "--vus/--duration: the test has several scenarios; they apply to a single-scenario test only");
    }
    ScenarioDef& s = def.scenarios[0];
    int64_t vus = o.vus > 0 ? o.vus : std::max<int64_t>(1, s.vus);
    Nanos duration = o.duration > 0 ? o.duration : (s.duration > 0 ? s.duration : 10 * kSecond);
    s.executor = ExecutorKind::kConstantVus;
    s.vus = vus;
    s.duration = duration;
  }
  for (const ScenarioDef& s : def.scenarios) {
    if (s.executor == ExecutorKind::kCapacitySearch) {
      return Error::InvalidArgument(
          fmt::format("scenarios.{}: executor capacity-search is not supported by `run` yet", s.name));
    }
  }
  plan->def = std::move(def);
  plan->threads = threads;
  plan->seed = seed;
  plan->segment = o.segment;
  if (plan->def.default_timeout) plan->default_timeout = *plan->def.default_timeout;
  bool need_tls = false;
  plan->sql_statements.resize(plan->def.databases.size());
  Status failed;
  for (const ScenarioDef& s : plan->def.scenarios) {
    for (const Steps* steps : {&s.init, &s.flow})
      ForEachStep(*steps, [&](const Step& step) {
        if (!failed.ok()) return;
        if (const auto* w = std::get_if<WsStep>(&step.body)) {
          auto b = WsBuilder::Build(*w, plan->def.target);
          if (!b.ok()) {
            failed = Error::InvalidArgument(fmt::format("scenarios.{}: {}", s.name, b.error().message));
            return;
          }
          auto index = OriginIndex(*plan, b->origin());
          if (!index.ok()) {
            failed = index.error();
            return;
          }
          need_tls |= b->origin().tls();
          plan->ws_targets.emplace(w, WsTarget{std::move(b).value(), *index});
          return;
        }
        if (const auto* q = std::get_if<SqlStep>(&step.body)) {
          auto& list = plan->sql_statements[static_cast<size_t>(q->db_index)];
          auto it = std::find(list.begin(), list.end(), q->query);
          if (it == list.end()) it = list.insert(list.end(), q->query);
          plan->sql_statement[q] = static_cast<int>(it - list.begin());
          return;
        }
        const auto* rp = std::get_if<RequestStep>(&step.body);
        if (rp == nullptr) return;
        const RequestStep& r = *rp;
        auto b = RequestBuilder::Build(r, plan->def.target, plan->def.default_headers, plan->def.vars);
        if (!b.ok()) {
          failed = Error::InvalidArgument(fmt::format("scenarios.{}: {}", s.name, b.error().message));
          return;
        }
        const Url& u = b->origin();
        if (u.websocket()) {
          failed = Error::InvalidArgument(
              fmt::format("scenarios.{}: request `{}`: use a `ws` step for ws:// URLs", s.name, r.name));
          return;
        }
        // A URL whose origin is known only per request may go to https:// (-1: no target).
        need_tls |= b->dynamic_origin();
        int origin_index = -1;
        if (!u.host.empty()) {
          auto index = OriginIndex(*plan, u);
          if (!index.ok()) {
            failed = index.error();
            return;
          }
          origin_index = *index;
          need_tls |= u.tls();
        }
        plan->origin_of[&r] = origin_index;
        if (plan->def.http_version == 2 && b->is_static()) {
          auto spec = b->StaticSpec();
          auto h2req = spec.ok() ? h2::H2Request::Compile(spec->method, spec->url, spec->headers, spec->body)
                                 : Result<h2::H2Request>(spec.error());
          if (!h2req.ok()) {
            failed = Error::InvalidArgument(
                fmt::format("scenarios.{}: request `{}`: {}", s.name, r.name, h2req.error().message));
            return;
          }
          plan->h2_static.emplace(&r, std::move(h2req).value());
        }
        plan->builders.emplace(&r, std::move(b).value());
      });
  }
  if (!failed.ok()) return failed.error();
  if (need_tls) {
    auto ctx = TlsContext::Create(!insecure);
    if (!ctx.ok()) return ctx.error();
    plan->tls.reset(*ctx);
    // HTTP/2 over TLS is chosen by ALPN; WebSocket upgrades stay on HTTP/1.1 (no ALPN).
    if (plan->def.http_version == 2) {
      auto h2ctx = TlsContext::Create(!insecure, {"h2"});
      if (!h2ctx.ok()) return h2ctx.error();
      plan->tls_h2.reset(*h2ctx);
    }
  }
  for (const ThresholdDef& t : plan->def.thresholds) {
    bool abort = false;
    for (const ThresholdExpr& e : t.exprs) abort |= e.abort_on_fail;
    if (abort) plan->abort_thresholds.push_back(&t);
  }
  plan->feeder_cursor = std::make_unique<std::atomic<int64_t>[]>(plan->def.data.size() + 1);
  plan->shared_iterations = std::make_unique<std::atomic<int64_t>[]>(plan->def.scenarios.size() + 1);
  plan->iterations_in_test = std::make_unique<std::atomic<int64_t>[]>(plan->def.scenarios.size() + 1);
  return plan;
}

}  // namespace loadcell
