#include "engine/ws_session.h"
#include "common/rng.h"

#include <fmt/format.h>

#include "common/units.h"
#include "protocol/websocket/handshake.h"

namespace loadcell {
namespace {

constexpr size_t kKeptMessages = 256;
constexpr size_t kKeptBytes = 1u << 20;
constexpr Nanos kCloseWait = 2 * kSecond;  // for the server's close reply, at most

}  // namespace

WsSession::WsSession(const WsStep& step, const WsBuilder& builder, const WsSessionEnv& env, StepOwner& owner, Tags tags,
                     Xoshiro256& rng)
    : step_(step), builder_(builder), env_(env), owner_(owner), tags_(std::move(tags)), key_(tags_), rng_(rng) {}

WsSession::~WsSession() = default;

void WsSession::NextMask(uint8_t* mask) {
  uint64_t r = rng_();
  for (int i = 0; i < 4; ++i) mask[i] = static_cast<uint8_t>(r >> (8 * i));
}

void WsSession::Start(Nanos now) {
  started_ = now;
  std::string key = ws::MakeClientKey(rng_(), rng_());
  auto request = builder_.Render(owner_.context(), key);
  if (!request.ok()) {
    // Nothing was sent: like a request that cannot render, the iteration ends here (its
    // remaining steps depend on what is missing); not a server failure.
    owner_.Note("ws-render:" + step_.name, fmt::format("ws {}: {} (iterations that cannot render a session end there)",
                                                       step_.name, request.error().message));
    done_ = true;
    owner_.StepDone(now, true);
    return;
  }
  ws::Limits limits;
  limits.max_message = step_.max_message;
  limits.max_frame = step_.max_message;
  client_ = std::make_unique<ws::WsClient>(*env_.poller, env_.tls, *env_.buf, *this, limits);
  wait_ = Wait::kOpen;
  deadline_ = now + step_.timeout.value_or(env_.default_timeout);
  request_ = std::move(request).value();
  key_b64_ = std::move(key);
  FaultDecision fault = owner_.DecideFault(now);
  switch (fault.action) {
    case FaultDecision::Action::kLose:
      owner_.WakeAt(deadline_);  // the handshake is lost: connect_timeout at the deadline
      return;
    case FaultDecision::Action::kReset:
      Fail(Failure::kReset, fmt::format("ws {}: connection reset (injected fault)", step_.name), now);
      return;
    case FaultDecision::Action::kHold:
      held_ = true;
      open_at_ = std::min(deadline_, now + fault.hold);
      owner_.WakeAt(open_at_);
      return;
    case FaultDecision::Action::kPass: break;
  }
  Open(now);
}

void WsSession::Open(Nanos now) {
  (void)now;
  held_ = false;
  owner_.WakeAt(deadline_);
  const Url& origin = builder_.origin();
  client_->Open(*env_.endpoint, origin.tls(), origin.host, std::move(request_), key_b64_, &step_.subprotocols);
}

bool WsSession::FaultsAllowSend(Nanos now, bool* lost) {
  *lost = false;
  if (held_) {
    held_ = false;  // this send's hold is over: it goes out now (unless a blackhole began)
    *lost = owner_.FaultLost(now);
    return true;
  }
  hold_start_ = now;
  FaultDecision fault = owner_.DecideFault(now);
  switch (fault.action) {
    case FaultDecision::Action::kLose: *lost = true; return true;
    case FaultDecision::Action::kReset:
      client_->Abort("", true, now);
      Fail(Failure::kReset, fmt::format("ws {}: connection reset (injected fault)", step_.name), now);
      return false;
    case FaultDecision::Action::kHold:
      held_ = true;
      wait_ = Wait::kHold;
      deadline_ = now + fault.hold;
      owner_.WakeAt(deadline_);
      return false;
    case FaultDecision::Action::kPass: break;
  }
  return true;
}

void WsSession::OnOpen(Nanos now) {
  Tags t = tags_;
  t["status"] = "101";
  env_.rec->Count("ws_sessions", t);
  env_.rec->Trend("ws_connecting", key_, now - started_);
  stack_.push_back({&step_.steps, 0, 0});
  wait_ = Wait::kNone;
  Run(now);
}

void WsSession::Run(Nanos now) {
  while (!done_ && wait_ == Wait::kNone && client_->open()) {
    if (stack_.empty()) {
      Finish(now);
      return;
    }
    Frame& f = stack_.back();
    if (f.next >= f.actions->size()) {
      if (f.passes_left > 0) {
        --f.passes_left;
        f.next = 0;
        continue;
      }
      stack_.pop_back();
      continue;
    }
    const WsAction& a = (*f.actions)[f.next++];
    if (const auto* s = std::get_if<WsSend>(&a.body)) {
      bool lost = false;
      if (!FaultsAllowSend(now, &lost)) {
        if (wait_ == Wait::kHold) --stack_.back().next;  // the send runs again after the hold
        return;
      }
      uint8_t mask[4];
      NextMask(mask);
      if (s->binary) {
        if (!lost) client_->Send(ws::Opcode::kBinary, s->bytes, mask, s->fragment);
      } else {
        auto text = s->text.Render(owner_.context());
        if (!text.ok()) {
          Fail(Failure::kRender, fmt::format("ws {}: send: {}", step_.name, text.error().message), now);
          return;
        }
        if (!lost) client_->Send(ws::Opcode::kText, *text, mask, s->fragment);
      }
      if (client_->ended()) return;
      last_send_ = hold_start_;
      env_.rec->Count("ws_msgs_sent", key_);
    } else if (const auto* r = std::get_if<WsReceive>(&a.body)) {
      auto m = r->match.Render(owner_.context());
      if (!m.ok()) {
        Fail(Failure::kRender, fmt::format("ws {}: receive: {}", step_.name, m.error().message), now);
        return;
      }
      match_ = std::move(m).value();
      wait_ = Wait::kReceive;
      deadline_ = now + r->timeout.value_or(step_.timeout.value_or(env_.default_timeout));
      if (TryReceive(now)) continue;
      owner_.WakeAt(deadline_);
      return;
    } else if (const auto* t = std::get_if<ThinkStep>(&a.body)) {
      Nanos d = t->a;
      if (t->kind == ThinkStep::Kind::kUniform) {
        d = std::uniform_int_distribution<Nanos>(t->a, t->b)(rng_);
      } else if (t->kind == ThinkStep::Kind::kExponential) {
        d = static_cast<Nanos>(std::exponential_distribution<double>(1.0 / static_cast<double>(t->a))(rng_));
      }
      wait_ = Wait::kThink;
      deadline_ = now + d;
      owner_.WakeAt(deadline_);
      return;
    } else if (const auto* l = std::get_if<WsLoop>(&a.body)) {
      if (l->count > 0) stack_.push_back({&l->steps, 0, l->count - 1});
    } else if (const auto* c = std::get_if<WsClose>(&a.body)) {
      uint8_t mask[4];
      NextMask(mask);
      stack_.clear();
      wait_ = Wait::kClose;
      deadline_ = now + kCloseWait;
      owner_.WakeAt(deadline_);
      client_->Close(c->code, c->reason, mask);
      return;
    }
  }
}

bool WsSession::TryReceive(Nanos now) {
  while (!kept_.empty()) {
    Pending p = std::move(kept_.front());
    kept_.pop_front();
    kept_bytes_ -= p.data.size();
    if (match_.empty() || p.data.find(match_) != std::string::npos) {
      if (last_send_ != 0) env_.rec->Trend("ws_msg_rtt", key_, std::max<Nanos>(0, p.at - last_send_));
      wait_ = Wait::kNone;
      (void)now;
      return true;
    }
  }
  return false;
}

void WsSession::OnMessage(ws::Opcode /*op*/, std::string_view data, Nanos now) {
  if (owner_.FaultLost(now)) return;  // lost on the way
  env_.rec->Count("ws_msgs_received", key_);
  if (done_) return;
  if (wait_ == Wait::kReceive && kept_.empty()) {
    if (match_.empty() || data.find(match_) != std::string_view::npos) {
      if (last_send_ != 0) env_.rec->Trend("ws_msg_rtt", key_, std::max<Nanos>(0, now - last_send_));
      wait_ = Wait::kNone;
      Run(now);
    }
    return;  // not the awaited message: dropped, as the next receive waits for a newer one
  }
  if (wait_ == Wait::kClose) return;
  kept_.push_back({std::string(data), now});
  kept_bytes_ += data.size();
  while (kept_.size() > kKeptMessages || kept_bytes_ > kKeptBytes) {
    kept_bytes_ -= kept_.front().data.size();
    kept_.pop_front();
  }
}

void WsSession::OnBytes(int64_t sent, int64_t received) {
  if (sent > 0) env_.rec->Count("data_sent", key_, sent);
  if (received > 0) env_.rec->Count("data_received", key_, received);
}

void WsSession::Finish(Nanos now) {
  uint8_t mask[4];
  NextMask(mask);
  wait_ = Wait::kClose;
  deadline_ = now + kCloseWait;
  owner_.WakeAt(deadline_);
  client_->Close(ws::kCloseNormal, "", mask);
}

void WsSession::OnTimer(Nanos now) {
  if (done_) return;
  if (wait_ == Wait::kOpen && held_ && now >= open_at_ && now < deadline_) {
    // The connect's latency hold is over; a blackhole that began meanwhile loses it.
    held_ = false;
    if (owner_.FaultLost(now))
      owner_.WakeAt(deadline_);
    else
      Open(now);
    return;
  }
  if (now < deadline_) return;
  switch (wait_) {
    case Wait::kOpen:
      client_->Abort("", true, now);
      Fail(Failure::kConnectTimeout,
           fmt::format("ws {}: no WebSocket after {} (connect and handshake)", step_.name,
                       FormatDuration(now - started_)),
           now);
      return;
    case Wait::kReceive:
      Fail(Failure::kReceiveTimeout,
           fmt::format("ws {}: no message matching \"{}\" within the receive timeout", step_.name, match_), now);
      return;
    case Wait::kThink:
    case Wait::kHold:
      wait_ = Wait::kNone;
      Run(now);
      return;
    case Wait::kClose:
      // The server did not answer our close: the session is over all the same.
      client_->Abort("", true, now);
      OnClosed({std::nullopt, false, 0, "", 101}, now);
      return;
    case Wait::kNone: return;
  }
}

void WsSession::Fail(Failure failure, const std::string& message, Nanos now) {
  const char* kind = FailureName(failure);
  failed_ = true;
  owner_.StepFailed();
  owner_.Note(std::string("ws:") + kind + ":" + step_.name, message);
  Tags et{{"scenario", tags_.count("scenario") ? tags_.at("scenario") : ""}, {"name", step_.name}, {"kind", kind}};
  env_.rec->Count("ws_errors", et);
  if (client_ != nullptr && client_->open()) {
    // End politely: the server sees a normal close, the session counts as failed.
    uint8_t mask[4];
    NextMask(mask);
    wait_ = Wait::kClose;
    deadline_ = now + kCloseWait;
    owner_.WakeAt(deadline_);
    client_->Close(ws::kCloseNormal, kind, mask);
    return;
  }
  if (client_ != nullptr && !client_->ended()) client_->Abort("", true, now);
  OnClosed({std::nullopt, true, 0, "", client_ != nullptr ? client_->status() : 0}, now);
}

void WsSession::OnClosed(const ws::End& end, Nanos now) {
  if (done_) return;
  done_ = true;
  bool opened = wait_ != Wait::kOpen;
  if (!opened) {
    // Never upgraded: a session all the same (k6 counts it, with the answer's status).
    Tags t = tags_;
    t["status"] = std::to_string(end.status);
    env_.rec->Count("ws_sessions", t);
  }
  bool error = end.failure.has_value();
  if (error) {
    owner_.Note(std::string("ws:") + FailureName(*end.failure) + ":" + step_.name,
                fmt::format("ws {}: {}", step_.name, end.message));
    Tags et{{"scenario", tags_.count("scenario") ? tags_.at("scenario") : ""},
            {"name", step_.name},
            {"kind", FailureName(*end.failure)}};
    env_.rec->Count("ws_errors", et);
  }
  // A server that closes before our steps are done ends the session early; only an
  // abnormal end (or a failure before it) makes the session a failure.
  failed_ |= error || !opened;
  env_.rec->Trend("ws_session_duration", key_, now - started_);
  env_.rec->Rate("ws_session_failed", key_, failed_);
  owner_.StepDone(now, false);
}

void WsSession::Abort(Nanos now) {
  if (done_) return;
  done_ = true;
  if (client_ != nullptr) client_->Abort("", true, now);
}

}  // namespace loadcell
