#include "protocol/http2/h2_client.h"

#include <algorithm>

namespace loadcell::h2 {

void H2Client::Connect(const Endpoint& to, const std::string& server_name, Nanos now) {
  completed_ = 0;
  Close();
  server_name_ = server_name;
  connect_started_ = now;
  state_ = State::kConnecting;
  IoResult r = transport_.Open(to, poller_, static_cast<IoHandler*>(this));
  if (r.status != IoStatus::kWantWrite) Down(transport_.local_limit() ? Failure::kLocalLimit : Failure::kConnect, now);
}

int H2Client::Capacity(int limit) const {
  if (state_ != State::kReady || h2_->closing()) return 0;
  auto max = static_cast<int>(std::min<uint32_t>(static_cast<uint32_t>(limit), h2_->peer_max_streams()));
  return std::max(0, max - active());
}

bool H2Client::Submit(const H2Request& request, H2Stream* stream) {
  if (state_ != State::kReady || !h2_->Submit(request, stream)) return false;
  stream->slot = streams_.size();
  streams_.push_back(stream);
  return true;
}

void H2Client::SetInterest(uint32_t events) { transport_.Watch(poller_, static_cast<IoHandler*>(this), events); }

void H2Client::Close() {
  transport_.Close();
  h2_.reset();
  streams_.clear();
  out_.clear();
  out_sent_ = 0;
  state_ = State::kDown;
}

void H2Client::OnStreamDone(H2Stream* stream, uint32_t error_code, bool refused) {
  if (error_code == 0) ++completed_;
  H2Stream* last = streams_.back();
  streams_[stream->slot] = last;
  last->slot = stream->slot;
  streams_.pop_back();
  events_.OnStreamDone(stream, error_code, refused);
}

void H2Client::Down(std::optional<Failure> failure, Nanos now) {
  bool was_ready = state_ == State::kReady;
  failure_ = failure;
  int32_t last = h2_ != nullptr ? h2_->goaway_last_stream() : -1;
  // Streams still open fail with the connection (the caller counts them).
  std::vector<H2Stream*> open;
  open.swap(streams_);
  transport_.Close();
  h2_.reset();
  out_.clear();
  out_sent_ = 0;
  state_ = State::kDown;
  // After a GOAWAY, streams above its last id were not processed: safe to send again.
  // Without one — a server that closes right after its GOAWAY, with our later streams
  // unread, makes its kernel send an RST, and the RST can discard the GOAWAY before we
  // read it — a stream that got no answer at all is sent again when its method is
  // idempotent, as an HTTP/1.1 client resends on a kept-alive connection that closed.
  // Only on a connection that served (a server that resets every connection must show as
  // failures), and only for a lost link (not a server that speaks something else).
  const bool lost_link = was_ready && completed_ > 0 && (failure == Failure::kReset || failure == Failure::kTls);
  for (H2Stream* s : open) {
    bool unanswered = s->status == 0 && s->body_bytes == 0;
    bool refused =
        last >= 0 ? s->id > last : lost_link && unanswered && s->request != nullptr && s->request->idempotent();
    events_.OnStreamDone(s, kConnectionLost, refused);
  }
  events_.OnDown(*this, failure, was_ready, now);
}

void H2Client::OnIo(uint32_t events, Nanos now) {
  switch (state_) {
    case State::kConnecting: {
      IoResult r = transport_.Connected(tls_, tls_ != nullptr ? &server_name_ : nullptr);
      if (r.status != IoStatus::kOk) {
        Down(r.status == IoStatus::kTlsError ? Failure::kTls : Failure::kConnect, now);
        return;
      }
      if (tls_ == nullptr) {
        OnConnected(now);
        return;
      }
      state_ = State::kHandshaking;
      StepHandshake(now);
      return;
    }
    case State::kHandshaking: StepHandshake(now); return;
    case State::kReady:
      if ((events & EPOLLOUT) != 0) Flush(now);
      if (state_ == State::kReady && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) OnReadable(now);
      if (state_ == State::kReady) {
        if (h2_->closing() && streams_.empty()) {
          Down(std::nullopt, now);  // the server retired the connection and we are done with it
          return;
        }
        Flush(now);
      }
      return;
    case State::kDown: return;
  }
}

void H2Client::StepHandshake(Nanos now) {
  IoResult r = transport_.StepTls(poller_, static_cast<IoHandler*>(this));
  if (r.status == IoStatus::kWantRead || r.status == IoStatus::kWantWrite) return;
  if (r.status != IoStatus::kOk)
    Down(Failure::kTls, now);
  else if (transport_.AlpnSelected() != "h2")
    Down(Failure::kProtocol, now);  // TLS without HTTP/2
  else
    OnConnected(now);
}

void H2Client::OnConnected(Nanos now) {
  h2_ = std::make_unique<H2Connection>(*this);
  if (!h2_->Start().ok()) {
    Down(Failure::kProtocol, now);
    return;
  }
  state_ = State::kReady;
  SetInterest(EPOLLIN);
  events_.OnReady(*this, now);
  if (state_ == State::kReady) Flush(now);
}

void H2Client::Flush(Nanos now) {
  if (state_ != State::kReady) return;
  if (!h2_->Drain(&out_)) {
    Down(Failure::kProtocol, now);
    return;
  }
  size_t before = out_sent_;
  IoStatus st = transport_.WriteFrom(out_.data(), out_.size(), &out_sent_);
  if (out_sent_ > before) events_.OnBytes(static_cast<int64_t>(out_sent_ - before), 0);
  if (st != IoStatus::kOk && st != IoStatus::kWantWrite && st != IoStatus::kWantRead) {
    Down(st == IoStatus::kTlsError ? Failure::kTls : Failure::kReset, now);
    return;
  }
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  }
  SetInterest(out_.empty() ? EPOLLIN : (EPOLLIN | EPOLLOUT));
}

void H2Client::OnReadable(Nanos now) {
  IoStatus st = transport_.ReadAll(buf_, poller_, static_cast<IoHandler*>(this), [&](std::string_view chunk) {
    events_.OnBytes(0, static_cast<int64_t>(chunk.size()));
    if (!h2_->Receive(chunk.data(), chunk.size())) {
      Down(Failure::kProtocol, now);
      return false;
    }
    return state_ == State::kReady;
  });
  if (st == IoStatus::kOk || st == IoStatus::kWantRead || st == IoStatus::kWantWrite) return;
  // The server closed: expected after its GOAWAY once our streams are done.
  bool clean = h2_->closing() && streams_.empty();
  Down(clean ? std::nullopt : std::optional<Failure>(st == IoStatus::kTlsError ? Failure::kTls : Failure::kReset), now);
}

}  // namespace loadcell::h2
