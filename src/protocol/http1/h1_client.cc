#include "protocol/http1/h1_client.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <utility>

namespace loadcell::http1 {

void H1Client::Send(const H1Target& to, std::string_view request, bool head, ResponseObserver* observer, Nanos now) {
  to_ = &to;
  out_ = request;
  written_ = 0;
  head_ = head;
  observer_ = observer;
  timings_ = {};
  parser_.Reset(head_, observer_);
  if (observer_ != nullptr) observer_->OnStart();
  if (origin_ != to.origin || transport_.fd() < 0) {
    Close();
    Connect(now);
    return;
  }
  Write(now);
}

void H1Client::Open(const H1Target& to, Nanos now) {
  to_ = &to;
  out_ = {};
  written_ = 0;
  head_ = false;
  observer_ = nullptr;
  timings_ = {};
  Close();
  Connect(now);
}

void H1Client::Close() {
  transport_.Close();
  origin_ = -1;
  reused_ = false;
  phase_ = Phase::kIdle;
}

void H1Client::Reset() {
  if (transport_.fd() >= 0) {
    // SO_LINGER 0: close() sends an RST.
    linger l{1, 0};
    setsockopt(transport_.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  Close();
}

void H1Client::SetInterest(uint32_t events) { transport_.Watch(*env_->poller, events_, events); }

void H1Client::Connect(Nanos now) {
  reused_ = false;
  origin_ = to_->origin;
  // A request resent on a new connection (the server closed the kept-alive one under it)
  // is written again from its first byte, and its answer parsed from scratch (the old
  // connection's end was fed to the parser).
  written_ = 0;
  parser_.Reset(head_, observer_);
  if (observer_ != nullptr) observer_->OnStart();
  timings_.connect = now;
  events_->OnConnect();
  phase_ = Phase::kConnecting;
  IoResult r = transport_.Open(*to_->endpoint, *env_->poller, events_);
  if (r.status != IoStatus::kWantWrite) Fail(transport_.local_limit() ? Failure::kLocalLimit : Failure::kConnect, now);
}

void H1Client::Write(Nanos now) {
  if (out_.empty()) {
    // Open(): connected, nothing to send. Idle and kept, as after a response.
    reused_ = true;
    phase_ = Phase::kIdle;
    SetInterest(EPOLLIN);
    return;
  }
  phase_ = Phase::kWriting;
  if (written_ == 0 && timings_.sent == 0) timings_.sent = now;
  IoStatus st = transport_.WriteFrom(out_.data(), out_.size(), &written_);
  if (st == IoStatus::kWantWrite) {
    SetInterest(EPOLLIN | EPOLLOUT);
    return;
  }
  if (st == IoStatus::kWantRead) {
    SetInterest(EPOLLIN);
    return;
  }
  if (st != IoStatus::kOk) {
    if (reused_ && st != IoStatus::kTlsError) {
      // The server closed the idle keep-alive connection: reconnect and send again.
      transport_.Close();
      Connect(now);
      return;
    }
    Fail(st == IoStatus::kTlsError ? Failure::kTls : Failure::kReset, now);
    return;
  }
  events_->OnBytes(static_cast<int64_t>(out_.size()), 0);
  timings_.written = now;
  phase_ = Phase::kReading;
  SetInterest(EPOLLIN);
}

void H1Client::OnIo(uint32_t events, Nanos now) {
  switch (phase_) {
    case Phase::kConnecting: {
      IoResult r = transport_.Connected(env_->tls, to_->tls ? to_->server_name : nullptr);
      if (r.status != IoStatus::kOk) {
        Fail(r.status == IoStatus::kTlsError ? Failure::kTls : Failure::kConnect, now);
        return;
      }
      timings_.connected = now;
      if (!to_->tls) {
        SetInterest(EPOLLIN);
        Write(now);
        return;
      }
      phase_ = Phase::kHandshaking;
      [[fallthrough]];
    }
    case Phase::kHandshaking: {
      IoResult r = transport_.StepTls(*env_->poller, events_);
      if (r.status == IoStatus::kOk) {
        timings_.secured = now;
        SetInterest(EPOLLIN);
        Write(now);
      } else if (r.status != IoStatus::kWantRead && r.status != IoStatus::kWantWrite) {
        Fail(Failure::kTls, now);
      }
      return;
    }
    case Phase::kWriting:
      if ((events & EPOLLOUT) != 0) Write(now);
      if (phase_ == Phase::kWriting && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) OnReadable(now);
      return;
    case Phase::kReading: OnReadable(now); return;
    case Phase::kPaused: return;  // a bandwidth limit's pause: Resume() reads on
    case Phase::kIdle:
      // A kept-alive connection with no request: the server closed it (or misbehaves).
      Close();
      return;
  }
}

void H1Client::Resume(Nanos now) {
  if (phase_ != Phase::kPaused) return;
  phase_ = Phase::kReading;
  SetInterest(EPOLLIN);
  OnReadable(now);
}

void H1Client::OnReadable(Nanos now) {
  for (;;) {
    size_t cap = std::min(env_->buf->size(), events_->ReadAllowance(now));
    if (cap == 0) {
      phase_ = Phase::kPaused;
      SetInterest(0);
      return;
    }
    IoResult r = transport_.Read(env_->buf->data(), cap);
    if (r.status == IoStatus::kOk) {
      if (timings_.first_byte == 0) timings_.first_byte = now;
      events_->OnBytes(0, static_cast<int64_t>(r.bytes));
      size_t used = parser_.Feed(env_->buf->data(), r.bytes);
      if (parser_.error() != ParseError::kNone) {
        Fail(Failure::kProtocol, now);
        return;
      }
      if (parser_.done()) {
        if (used < r.bytes) Close();  // bytes we did not ask for: do not trust this stream
        Done(now);
        return;
      }
      if (!transport_.tls() && r.bytes < cap) return;
      continue;
    }
    if (r.status == IoStatus::kWantRead) return;
    if (r.status == IoStatus::kWantWrite) {
      SetInterest(EPOLLIN | EPOLLOUT);
      return;
    }
    if (r.status == IoStatus::kEof && parser_.OnEof()) {
      Close();
      Done(now);
      return;
    }
    if (!parser_.started() && reused_ && r.status != IoStatus::kTlsError) {
      transport_.Close();
      Connect(now);
      return;
    }
    // A response cut short by a close is truncated (protocol); a reset is a reset
    // wherever it lands.
    Fail(r.status == IoStatus::kTlsError                   ? Failure::kTls
         : parser_.started() && r.status == IoStatus::kEof ? Failure::kProtocol
                                                           : Failure::kReset,
         now);
    return;
  }
}

void H1Client::Done(Nanos now) {
  if (!parser_.keep_alive()) Close();
  reused_ = transport_.fd() >= 0;
  phase_ = Phase::kIdle;
  if (reused_) SetInterest(EPOLLIN);
  events_->OnResponse(now);
}

void H1Client::Fail(Failure failure, Nanos now) {
  Close();
  events_->OnFailed(failure, now);
}

}  // namespace loadcell::http1
