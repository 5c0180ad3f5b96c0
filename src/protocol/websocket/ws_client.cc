#include "protocol/websocket/ws_client.h"

#include <fmt/format.h>

#include "protocol/websocket/handshake.h"

namespace loadcell::ws {

void WsClient::Open(const Endpoint& to, bool use_tls, const std::string& server_name, std::string request,
                    std::string key, const std::vector<std::string>* subprotocols) {
  use_tls_ = use_tls;
  server_name_ = server_name;
  out_ = std::move(request);
  out_sent_ = 0;
  key_ = std::move(key);
  subprotocols_ = subprotocols;
  Nanos now = MonotonicClock::ReadNow();
  state_ = State::kConnecting;
  IoResult r = transport_.Open(to, poller_, static_cast<IoHandler*>(this));
  if (r.status != IoStatus::kWantWrite) {
    End(transport_.local_limit() ? Failure::kLocalLimit : Failure::kConnect,
        fmt::format("cannot connect to {}", to.ToString()), 0, now);
  }
}

void WsClient::SetInterest(uint32_t events) { transport_.Watch(poller_, static_cast<IoHandler*>(this), events); }

void WsClient::Send(Opcode op, std::string_view payload, const uint8_t* mask, size_t fragment) {
  if (state_ != State::kOpen) return;
  if (fragment == 0 || payload.size() <= fragment) {
    EncodeFrame(&out_, op, payload, true, mask);
  } else {
    uint8_t key[4] = {mask[0], mask[1], mask[2], mask[3]};
    for (size_t at = 0; at < payload.size(); at += fragment) {
      bool last = at + fragment >= payload.size();
      EncodeFrame(&out_, at == 0 ? op : Opcode::kContinuation, payload.substr(at, fragment), last, key);
      for (uint8_t& k : key) k = static_cast<uint8_t>(k * 167 + 13);  // a different key per frame
    }
  }
  Flush(MonotonicClock::ReadNow());
}

void WsClient::Close(uint16_t code, std::string_view reason, const uint8_t* mask) {
  if (state_ != State::kOpen) return;
  EncodeClose(&out_, code, reason, mask);
  state_ = State::kClosing;
  Flush(MonotonicClock::ReadNow());
}

void WsClient::Abort(std::string message, bool quiet, Nanos now) {
  if (state_ == State::kEnded) return;
  if (quiet) {
    transport_.Close();
    state_ = State::kEnded;
    return;
  }
  End(std::nullopt, std::move(message), 0, now, /*aborted=*/true);
}

void WsClient::End(std::optional<Failure> failure, std::string message, uint16_t code, Nanos now, bool aborted) {
  if (state_ == State::kEnded) return;
  transport_.Close();
  state_ = State::kEnded;
  ws::End e{failure, aborted, code, std::move(message), status_};
  handler_.OnClosed(e, now);  // last call: the owner may retire this client from here
}

void WsClient::Flush(Nanos now) {
  if (state_ == State::kConnecting || state_ == State::kTls || state_ == State::kEnded) return;
  size_t before = out_sent_;
  IoStatus st = transport_.WriteFrom(out_.data(), out_.size(), &out_sent_);
  if (out_sent_ > before) handler_.OnBytes(static_cast<int64_t>(out_sent_ - before), 0);
  if (st != IoStatus::kOk && st != IoStatus::kWantWrite && st != IoStatus::kWantRead) {
    End(st == IoStatus::kTlsError ? Failure::kTls : Failure::kReset, "connection reset while sending", 0, now);
    return;
  }
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
    SetInterest(EPOLLIN);
  } else {
    SetInterest(EPOLLIN | EPOLLOUT);
  }
}

void WsClient::StartHandshake(Nanos now) {
  state_ = State::kHandshake;
  SetInterest(EPOLLIN);
  Flush(now);
}

void WsClient::OnIo(uint32_t events, Nanos now) {
  switch (state_) {
    case State::kConnecting: {
      IoResult r = transport_.Connected(tls_, use_tls_ ? &server_name_ : nullptr);
      if (r.status == IoStatus::kError) {
        End(Failure::kConnect, "connection refused", 0, now);
        return;
      }
      if (r.status != IoStatus::kOk) {
        End(Failure::kTls, "cannot start TLS", 0, now);
        return;
      }
      if (!use_tls_) {
        StartHandshake(now);
        return;
      }
      state_ = State::kTls;
      [[fallthrough]];
    }
    case State::kTls: {
      IoResult r = transport_.StepTls(poller_, static_cast<IoHandler*>(this));
      if (r.status == IoStatus::kOk)
        StartHandshake(now);
      else if (r.status != IoStatus::kWantRead && r.status != IoStatus::kWantWrite)
        End(Failure::kTls, fmt::format("TLS handshake failed: {}", transport_.TlsErrorText()), 0, now);
      return;
    }
    case State::kIdle:
    case State::kEnded: return;
    default: break;
  }
  if ((events & EPOLLOUT) != 0) {
    Flush(now);
    if (state_ == State::kEnded) return;
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) OnReadable(now);
}

void WsClient::OnReadable(Nanos now) {
  IoStatus st = transport_.ReadAll(buf_, poller_, static_cast<IoHandler*>(this), [&](std::string_view chunk) {
    handler_.OnBytes(0, static_cast<int64_t>(chunk.size()));
    return Consume(chunk, now);
  });
  if (st == IoStatus::kOk || st == IoStatus::kWantRead || st == IoStatus::kWantWrite) return;
  if (state_ == State::kHandshake) {
    // A clean close answers the upgrade with "no"; a reset is a reset, as for HTTP.
    if (st == IoStatus::kEof) {
      End(Failure::kHandshake, "the server closed the connection during the handshake", 0, now);
    } else {
      End(Failure::kReset, "connection reset during the handshake", 0, now);
    }
  } else if (st == IoStatus::kTlsError) {
    End(Failure::kTls, fmt::format("TLS error: {}", transport_.TlsErrorText()), 0, now);
  } else {
    End(Failure::kReset,
        st == IoStatus::kEof ? "the server closed the connection without a close frame" : "connection reset", 0, now);
  }
}

bool WsClient::Consume(std::string_view data, Nanos now) {
  if (state_ == State::kHandshake) {
    head_.append(data);
    HandshakeResponse h = ParseHandshakeResponse(head_);
    if (h.state == HandshakeResponse::State::kIncomplete) return true;
    if (h.state == HandshakeResponse::State::kError) {
      End(Failure::kHandshake, "invalid handshake answer: " + h.error, 0, now);
      return false;
    }
    status_ = h.status;
    static const std::vector<std::string> kNone;
    Status ok = CheckHandshake(h, key_, subprotocols_ != nullptr ? *subprotocols_ : kNone);
    if (!ok.ok()) {
      End(Failure::kHandshake, ok.error().message, 0, now);
      return false;
    }
    std::string rest = head_.substr(h.head_bytes);
    head_.clear();
    head_.shrink_to_fit();
    state_ = State::kOpen;
    handler_.OnOpen(now);
    if (state_ != State::kOpen && state_ != State::kClosing) return false;
    if (rest.empty()) return true;
    parser_.Append(rest);
  } else {
    parser_.Append(data);
  }
  MessageParser::Message m;
  for (;;) {
    MessageParser::Status st = parser_.Next(&m);
    if (st == MessageParser::Status::kNeedMore) return true;
    if (st == MessageParser::Status::kError) {
      // Tell the server why (best effort), then drop the connection.
      std::string bye;
      EncodeClose(&bye, parser_.error_code(), parser_.error(), pong_mask_);
      (void)transport_.Write(bye.data(), bye.size());
      End(Failure::kProtocol, "invalid frame from the server: " + parser_.error(), parser_.error_code(), now);
      return false;
    }
    switch (m.opcode) {
      case Opcode::kPing:
        if (state_ == State::kOpen) {
          EncodeFrame(&out_, Opcode::kPong, m.data, true, pong_mask_);
          Flush(now);
          if (state_ == State::kEnded) return false;
        }
        break;
      case Opcode::kPong: break;
      case Opcode::kClose: {
        CloseInfo ci = ParseClosePayload(m.data);
        if (state_ == State::kOpen) {
          // The server starts the close: echo its code (RFC 6455 5.5.1), then we are done.
          std::string bye;
          EncodeClose(&bye, ci.code == 1005 ? kCloseNormal : ci.code, "", pong_mask_);
          (void)transport_.Write(bye.data(), bye.size());
        }
        bool normal = ci.code == kCloseNormal || ci.code == kCloseGoingAway || ci.code == 1005;
        End(normal ? std::nullopt : std::optional<Failure>(Failure::kServerClosed),
            ci.reason.empty() ? fmt::format("closed with {}", ci.code)
                              : fmt::format("closed with {}: {}", ci.code, ci.reason),
            ci.code, now);
        return false;
      }
      default:
        handler_.OnMessage(m.opcode, m.data, now);
        if (state_ == State::kEnded) return false;
        break;
    }
  }
}

}  // namespace loadcell::ws
