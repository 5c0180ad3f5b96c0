// A VU's HTTP requests: the HTTP step (Vu::HttpStep: start, fault holds, timeouts, abort)
// and the worker's HTTP path behind it: rendered (or the plan's compiled bytes), through the
// fault gate, onto the VU's HTTP/1.1 connection or an HTTP/2 pool, and their samples recorded.
#include <algorithm>

#include <fmt/format.h>

#include "engine/vu_state.h"
#include "load/faults.h"
#include "net/resolver.h"

namespace loadcell {

void VuWorker::Vu::HttpStep::Start(Nanos now) {
  VuWorker& w = vu.worker();
  if (w.plan_.def.http_version == 2) {
    w.StartH2(vu, now);
    return;
  }
  if (vu.req != w.last_req_) {
    // Most flows repeat one request or a few: the plan's maps are read once per change.
    w.last_req_ = vu.req;
    w.last_builder_ = &w.plan_.builders.at(vu.req);
    w.last_origin_ = w.plan_.origin_of.at(vu.req);
  }
  const RequestBuilder& b = *w.last_builder_;
  vu.req_origin = w.last_origin_;
  // A static request is compiled once and sent from the plan: no copy per request.
  vu.rendered = !b.is_static();
  if (vu.rendered) {
    Url rendered_origin;
    auto bytes = b.Render(vu, b.dynamic_origin() ? &rendered_origin : nullptr);
    if (bytes.ok() && b.dynamic_origin()) {
      auto index = w.OriginFor(rendered_origin);
      if (!index.ok())
        bytes = index.error();
      else
        vu.req_origin = *index;
    }
    if (!bytes.ok()) {
      w.RenderFailed(vu, bytes.error(), now);
      return;
    }
    vu.X().rendered = std::move(bytes).value();
  }
  vu.t_start = now;
  vu.sent = 0;
  vu.deadline = now + vu.req->timeout.value_or(w.plan_.default_timeout);
  if (vu.exec->def->queue_arrivals) vu.deadline -= vu.lag;  // wrk2's model: from the intended time
  FaultDecision fault = w.DecideFaultFor(vu, now);
  switch (fault.action) {
    case FaultDecision::Action::kLose:
      // Lost on the way: it fails as a timeout when its timeout is up, as a request whose
      // packets are dropped would.
      vu.state = Vu::State::kFaultHeld;
      return;
    case FaultDecision::Action::kReset:
      vu.http.Reset();
      w.FailRequest(vu, Failure::kReset, now);
      return;
    case FaultDecision::Action::kHold:
      // Held before it is sent, and its duration counts from now: the delay a slower
      // network would add.
      vu.sent = now;
      w.HoldForFault(vu, now + fault.hold);
      return;
    case FaultDecision::Action::kPass: break;
  }
  w.SendRequest(vu, now);
}

void VuWorker::Vu::HttpStep::OnTimer(Nanos now) {
  VuWorker& w = vu.worker();
  if (vu.state == Vu::State::kFaultHeld) {
    // A latency fault's hold is over; a blackhole that began meanwhile keeps it lost.
    if (!w.FaultsOn(vu, now).blackhole) {
      if (w.plan_.def.http_version == 2)
        w.SendH2(vu, now);
      else
        w.SendRequest(vu, now);
    }
  } else if (vu.state == Vu::State::kHttp1 && vu.throttled) {
    vu.throttled = false;  // a bandwidth fault's slice is over: reading goes on
    vu.http.Resume(now);
  }
}

void VuWorker::Vu::HttpStep::OnScan(Nanos now) {
  if (now < vu.deadline) return;
  VuWorker& w = vu.worker();
  if (vu.state == Vu::State::kH2) {
    w.AbandonH2(vu);
    w.FailRequest(vu, Failure::kTimeout, now);
    return;
  }
  // A connect that times out points at a full accept queue or a dropped SYN, not at a
  // slow answer: its own kind, for the bottleneck findings.
  bool connecting = vu.state == Vu::State::kHttp1 && vu.http.phase() == http1::H1Client::Phase::kConnecting;
  w.FailRequest(vu, connecting ? Failure::kConnectTimeout : Failure::kTimeout, now);
}

void VuWorker::Vu::HttpStep::Abort(Nanos) {
  vu.worker().AbandonH2(vu);
  vu.http.Close();
  vu.throttled = false;
}

void VuWorker::RenderFailed(Vu& vu, const Error& error, Nanos now) {
  // A template that cannot render (a capture that failed earlier, say) ends the iteration:
  // its remaining steps depend on it.
  if (stats_.render_failures++ == 0) {
    stats_.messages.push_back(
        fmt::format("request {}: {} (iterations that cannot render a request end there)", vu.req->name, error.message));
  }
  EndIteration(vu, now, false);
}

ActiveFaults VuWorker::FaultsOn(const Vu& vu, Nanos now) const {
  if (plan_.def.faults.empty()) return {};
  return FaultsAt(plan_.def.faults, now - start_, vu.exec->def->name);
}

FaultDecision VuWorker::DecideFaultFor(Vu& vu, Nanos now) const {
  if (plan_.def.faults.empty()) return {};
  return DecideFault(FaultsOn(vu, now), [&vu] { return std::uniform_real_distribution<double>(0, 1)(vu.Rng()); });
}

void VuWorker::HoldForFault(Vu& vu, Nanos until) {
  vu.state = Vu::State::kFaultHeld;
  vu.timer_seq = ++timer_seq_;
  timers_.push_back({until, &vu, vu.timer_seq});
  std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
}

void VuWorker::SendRequest(Vu& vu, Nanos now) {
  bool collect =
      !vu.req->checks.empty() || !vu.req->captures.empty() || vu.req->tag_from.has_value() || vu.req->keep_response;
  ResponseCollector* collector = nullptr;
  if (collect) {
    std::unique_ptr<ResponseCollector>& c = vu.X().collector;
    if (c == nullptr) c = std::make_unique<ResponseCollector>();
    collector = c.get();
  }
  // The bytes: rendered for this request, or the plan's (a request held by a fault is sent
  // after other VUs' requests have moved last_req_ on).
  std::string_view out = vu.rendered           ? std::string_view(vu.extra->rendered)
                         : vu.req == last_req_ ? last_builder_->static_bytes()
                                               : plan_.builders.at(vu.req).static_bytes();
  vu.state = Vu::State::kHttp1;
  vu.http.Send(H1TargetAt(vu.req_origin), out, vu.req->method == "HEAD", collector, now);
}

const http1::H1Target& VuWorker::H1TargetAt(int origin) {
  while (h1_targets_.size() <= static_cast<size_t>(origin)) {
    int i = static_cast<int>(h1_targets_.size());
    const Origin& o = OriginAt(i);
    h1_targets_.push_back({i, o.url.tls(), &o.endpoint, &o.url.host});
  }
  return h1_targets_[static_cast<size_t>(origin)];
}

void VuWorker::OnEvent(Vu& vu, uint32_t events, Nanos now) {
  if (vu.state == Vu::State::kHttp1 && FaultsOn(vu, now).blackhole) {
    // What arrives during a blackhole is lost: the request waits for its timeout.
    vu.http.Close();
    vu.throttled = false;
    vu.state = Vu::State::kFaultHeld;
    return;
  }
  vu.http.OnIo(events, now);
}

void VuWorker::CountBytes(Vu& vu, int64_t sent, int64_t received) {
  if (sent > 0) series_.Vu(vu.base_id, SeriesCache::VuMetric::kDataSent).Count(sent);
  if (received > 0) {
    if (!plan_.def.faults.empty()) vu.X().rx_bytes += received;  // a bandwidth fault's budget
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
  Vu::Extra& x = vu.X();
  if (now - x.rx_slice >= kSlice) {
    x.rx_slice = now;
    x.rx_bytes = 0;
  }
  int64_t budget = std::max<int64_t>(1, rate / 10) - x.rx_bytes;
  if (budget > 0) return static_cast<size_t>(budget);
  vu.throttled = true;
  vu.timer_seq = ++timer_seq_;
  timers_.push_back({x.rx_slice + kSlice, &vu, vu.timer_seq});
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
  origin.path.assign(1, '/');  // not `= "/"`: GCC 12 warns wrongly (-Wrestrict) on that here
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
  vu.X().h2 = nullptr;
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
      RenderFailed(vu, compiled.error(), now);
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
  bool collect =
      !vu.req->checks.empty() || !vu.req->captures.empty() || vu.req->tag_from.has_value() || vu.req->keep_response;
  r->observer = collect ? &r->collector : nullptr;
  vu.state = Vu::State::kH2;
  vu.X().h2 = r;
  vu.X().h2_origin = origin;
  pool.Submit(r, now);
}

void VuWorker::H2Done(H2Pool::Request& r, uint32_t code, std::optional<Failure> failure, Nanos now) {
  Vu& vu = *static_cast<Vu*>(r.owner);
  vu.X().h2 = nullptr;
  if (FaultsOn(vu, now).blackhole) {
    vu.state = Vu::State::kFaultHeld;  // what arrives during a blackhole is lost: it times out
    return;
  }
  vu.state = Vu::State::kIdle;
  if (code == 0) {
    if (vu.req->keep_response) {
      // The Lua expressions after it read the VU's own copy (the pool reuses its request).
      std::unique_ptr<ResponseCollector>& c = vu.X().collector;
      if (c == nullptr) c = std::make_unique<ResponseCollector>();
      *c = r.collector;
    }
    RecordResponse(vu, r.status, &r.collector, http1::H1Timings{}, now);
    Advance(vu, now);
    return;
  }
  FailRequest(vu, code == h2::kConnectionLost ? failure.value_or(Failure::kReset) : Failure::kReset, now);
}

void VuWorker::AbandonH2(Vu& vu) {
  if (vu.extra == nullptr || vu.extra->h2 == nullptr) return;
  h2_pools_[static_cast<size_t>(vu.extra->h2_origin)]->Abandon(vu.extra->h2);
  vu.extra->h2 = nullptr;
}

void VuWorker::Complete(Vu& vu, Nanos now) {
  vu.state = Vu::State::kIdle;
  vu.throttled = false;
  RecordResponse(vu, vu.http.parser().status(), vu.extra != nullptr ? vu.extra->collector.get() : nullptr,
                 vu.http.timings(), now);
  Advance(vu, now);
}

const std::string& VuWorker::InstanceOf(const RequestStep& req, int status, const ResponseCollector& collector) {
  ResponseView view{status, &collector.headers(), collector.body(), 0};
  bool typed = false;
  auto v = ResponseEvaluator(view).Extract(*req.tag_from, &typed);
  std::string value = v ? *v : "none";  // an answer without it: its own value, not lost
  // A bounded set of values per worker: a header that differs per request (a request id)
  // must not make a series per request.
  if (instances_.count(value) == 0 && instances_.size() >= kMaxInstances) {
    if (!instances_overflow_) {
      instances_overflow_ = true;
      stats_.messages.push_back(
          fmt::format("tag_from {}: more than {} values; the others are tagged \"other\" (is it a per-request value?)",
                      req.tag_from->source, kMaxInstances));
    }
    value = "other";
  }
  return *instances_.insert(std::move(value)).first;
}

void VuWorker::RecordResponse(Vu& vu, int status, const ResponseCollector* collector, const http1::H1Timings& t,
                              Nanos now) {
  vu.iter_ok = true;
  const RequestStep& req = *vu.req;
  if (req.keep_response) vu.X().last_status = status;
  // tag_from: which instance answered, read before the series is chosen (it is one of its tags).
  static const std::string kNoInstance;
  const std::string& instance = req.tag_from.has_value() ? InstanceOf(req, status, *collector) : kNoInstance;
  const RequestSeries& series = series_.Request(vu.base_id, req, vu.group(), status, vu.exec->open(), instance);
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
    Vu::Extra& x = vu.X();
    for (size_t i = 0; i < req.checks.size(); ++i) series.checks[i].Rate(ev.Evaluate(req.checks[i]));
    for (const Capture& c : req.captures) {
      bool typed = false;
      auto v = ev.Extract(c, &typed);
      if (typed)
        x.json_vars.insert(c.as);
      else
        x.json_vars.erase(c.as);
      if (v) {
        x.vars[c.as] = *v;
      } else {
        x.vars.erase(c.as);
        store_.Count("capture_failures", {{"scenario", vu.exec->def->name}, {"name", req.name}, {"capture", c.as}});
      }
    }
  }
}

void VuWorker::Unsent(Executor& e) {
  // Counted as a timed-out request of the scenario's first step (quick's one request).
  const auto* req = e.def->flow.empty() ? nullptr : std::get_if<RequestStep>(&e.def->flow.front().body);
  if (req != nullptr) {
    int& base = unsent_base_[static_cast<size_t>(e.scenario)];
    if (base < 0) base = series_.Intern({{"scenario", e.def->name}});
    const RequestSeries& series = series_.Request(base, *req, "", 0);
    series.reqs.Count(1);
    series.failed.Rate(true);
    for (const SeriesPair& check : series.checks) check.Rate(false);
  }
  rec_.Count("http_req_errors", Tags{{"scenario", e.def->name}, {"kind", FailureName(Failure::kTimeout)}});
}

void VuWorker::FailRequest(Vu& vu, Failure kind, Nanos now) {
  const bool unreached = kind == Failure::kConnect || kind == Failure::kConnectTimeout ||
                         kind == Failure::kLocalLimit || kind == Failure::kTls;
  if (unreached)
    ++vu.iter_failures;
  else
    vu.iter_ok = true;
  const RequestStep& req = *vu.req;
  const RequestSeries& series = series_.Request(vu.base_id, req, vu.group(), 0);
  series.reqs.Count(1);
  series.failed.Rate(true);
  Tags error_tags{{"scenario", vu.exec->def->name}, {"kind", FailureName(kind)}};
  rec_.Count("http_req_errors", error_tags);
  for (const SeriesPair& check : series.checks) check.Rate(false);
  if (vu.extra != nullptr) {
    for (const Capture& c : req.captures) vu.extra->vars.erase(c.as);
    if (req.keep_response) {
      vu.extra->last_status = 0;  // no response: status is nil in the expressions after it
      if (vu.extra->collector != nullptr) vu.extra->collector->Clear();
    }
  }
  vu.http.Close();
  vu.throttled = false;
  vu.state = Vu::State::kIdle;
  // k6 goes on with the iteration after a failed request.
  Advance(vu, now);
}

}  // namespace loadcell
