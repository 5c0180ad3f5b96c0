#include "engine/h2_worker.h"

#include <sys/prctl.h>

#include <algorithm>

namespace loadcell {
namespace {

constexpr size_t kReadBuffer = 64 * 1024;
constexpr Nanos kScanInterval = 10 * kMilli;
constexpr Nanos kMinBackoff = 10 * kMilli;
constexpr Nanos kMaxBackoff = 1 * kSecond;
constexpr int kMaxEvents = 256;

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

struct H2Worker::Conn final : public IoHandler {
  enum class State { kClosed, kBackoff, kConnecting, kHandshaking, kReady };
  H2Worker* worker = nullptr;
  Transport transport;
  std::unique_ptr<h2::H2Connection> h2;
  State state = State::kClosed;
  uint32_t interest = 0;
  std::string out;
  size_t out_sent = 0;
  int active = 0;
  int backoff = 0;
  Nanos retry_at = 0;
  Nanos deadline = 0;
  void OnIo(uint32_t events, Nanos now) override { worker->OnEvent(*this, events, now); }
};

struct H2Worker::Stream : h2::H2Stream {
  Conn* conn = nullptr;
  Nanos intended = 0;
  Nanos sent = 0;
  bool retried = false;
  bool timed_out = false;  // already counted; the close that follows is bookkeeping
  size_t live_index = 0;
};

H2Worker::H2Worker(const WorkerPlan& plan, const Clock& clock, SnapshotSink& sink, StartGate& gate,
                   const std::atomic<bool>& interrupted)
    : plan_(plan), clock_(clock), sink_(sink), gate_(gate), interrupted_(interrupted), open_(plan.rate > 0),
      buf_(kReadBuffer), shard_(plan.histograms) {
  for (int i = 0; i < plan_.connections; ++i) {
    conns_.push_back(std::make_unique<Conn>());
    conns_.back()->worker = this;
  }
}

H2Worker::~H2Worker() = default;

int H2Worker::Capacity(const Conn& c) const {
  if (c.state != Conn::State::kReady || c.h2 == nullptr || c.h2->closing()) return 0;
  auto limit = static_cast<int>(std::min<uint32_t>(static_cast<uint32_t>(plan_.streams), c.h2->peer_max_streams()));
  return std::max(0, limit - c.active);
}

void H2Worker::StartConnect(Conn& c, Nanos now) {
  c.out.clear();
  c.out_sent = 0;
  c.deadline = now + plan_.timeout;
  IoResult r = c.transport.Connect(plan_.endpoint);
  if (r.status != IoStatus::kOk && r.status != IoStatus::kWantWrite) {
    ConnectFailed(c, FailureKind::kConnect, now);
    return;
  }
  c.state = Conn::State::kConnecting;
  c.interest = EPOLLOUT;
  if (!poller_.Add(c.transport.fd(), EPOLLOUT, static_cast<IoHandler*>(&c)).ok()) {
    ConnectFailed(c, FailureKind::kConnect, now);
  }
}

void H2Worker::OnEvent(Conn& c, uint32_t events, Nanos now) {
  switch (c.state) {
    case Conn::State::kConnecting: {
      if (c.transport.FinishConnect().status != IoStatus::kOk) {
        ConnectFailed(c, FailureKind::kConnect, now);
        return;
      }
      if (plan_.tls == nullptr) {
        OnConnected(c, now);
        return;
      }
      SSL* ssl = plan_.tls->NewSession(c.transport.fd(), plan_.server_name);
      if (ssl == nullptr) {
        ConnectFailed(c, FailureKind::kTls, now);
        return;
      }
      c.transport.StartTls(ssl);
      c.state = Conn::State::kHandshaking;
      StepHandshake(c, now);
      return;
    }
    case Conn::State::kHandshaking:
      StepHandshake(c, now);
      return;
    case Conn::State::kReady:
      if ((events & EPOLLOUT) != 0) Flush(c, now);
      if (c.state == Conn::State::kReady && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) OnReadable(c, now);
      if (c.state == Conn::State::kReady) AfterIo(c, now);
      return;
    default:
      return;
  }
}

void H2Worker::StepHandshake(Conn& c, Nanos now) {
  IoResult r = c.transport.Handshake();
  if (r.status == IoStatus::kWantRead) {
    c.interest = EPOLLIN;
    (void)poller_.Modify(c.transport.fd(), EPOLLIN, static_cast<IoHandler*>(&c));
  } else if (r.status == IoStatus::kWantWrite) {
    c.interest = EPOLLOUT;
    (void)poller_.Modify(c.transport.fd(), EPOLLOUT, static_cast<IoHandler*>(&c));
  } else if (r.status != IoStatus::kOk) {
    ConnectFailed(c, FailureKind::kTls, now);
  } else if (c.transport.AlpnSelected() != "h2") {
    // The server speaks TLS but not HTTP/2 (no ALPN "h2"): every attempt would fail alike.
    ConnectFailed(c, FailureKind::kProtocol, now);
  } else {
    OnConnected(c, now);
  }
}

void H2Worker::OnConnected(Conn& c, Nanos now) {
  c.backoff = 0;
  if (Recording(now)) ++shard_.counters.connects;
  c.h2 = std::make_unique<h2::H2Connection>(*this);
  if (!c.h2->Start().ok()) {
    Lost(c, FailureKind::kProtocol, now);
    return;
  }
  c.state = Conn::State::kReady;
  AfterIo(c, now);
}

bool H2Worker::Submit(Conn& c, Nanos intended, bool retried, Nanos now) {
  Stream* s = nullptr;
  if (!free_.empty()) {
    s = free_.back();
    free_.pop_back();
  } else {
    streams_.push_back(std::make_unique<Stream>());
    s = streams_.back().get();
  }
  s->conn = &c;
  s->intended = intended;
  s->sent = now;
  s->retried = retried;
  s->timed_out = false;
  if (!c.h2->Submit(*plan_.h2_request, s)) {
    free_.push_back(s);
    return false;
  }
  ++c.active;
  ++active_;
  s->live_index = live_.size();
  live_.push_back(s);
  if (open_ && !retried && Recording(intended)) shard_.send_lag.Record((now - intended) / kMicro);
  return true;
}

void H2Worker::Fill(Conn& c, Nanos now) {
  if (open_) return;
  for (int n = Capacity(c); n > 0 && Sending(now); --n) {
    if (!Submit(c, now, false, now)) break;
  }
}

void H2Worker::Dispatch(Nanos now) {
  auto take = [&](std::deque<Nanos>& q, bool retried) {
    for (size_t k = 0; k < conns_.size() && !q.empty(); ++k) {
      Conn& c = *conns_[(next_conn_ + k) % conns_.size()];
      bool used = false;
      for (int n = Capacity(c); n > 0 && !q.empty(); --n) {
        if (!Submit(c, q.front(), retried, now)) break;
        q.pop_front();
        if (!retried) late_marked_ = std::max<size_t>(late_marked_, 1) - 1;
        used = true;
      }
      if (used) Flush(c, now);
    }
  };
  take(retry_, true);
  take(queue_, false);
  next_conn_ = (next_conn_ + 1) % std::max<size_t>(1, conns_.size());
  if (queue_.size() > late_marked_) {
    if (Recording(now)) shard_.counters.late += static_cast<int64_t>(queue_.size() - late_marked_);
    late_marked_ = queue_.size();
  }
}

void H2Worker::Flush(Conn& c, Nanos now) {
  if (c.h2 == nullptr) return;
  if (!c.h2->Drain(&c.out)) {
    Lost(c, FailureKind::kProtocol, now);
    return;
  }
  while (c.out_sent < c.out.size()) {
    IoResult r = c.transport.Write(c.out.data() + c.out_sent, c.out.size() - c.out_sent);
    if (r.status == IoStatus::kOk) {
      c.out_sent += r.bytes;
      if (Recording(now)) shard_.counters.bytes_out += static_cast<int64_t>(r.bytes);
      continue;
    }
    if (r.status == IoStatus::kWantWrite || r.status == IoStatus::kWantRead) break;
    Lost(c, r.status == IoStatus::kTlsError ? FailureKind::kTls : FailureKind::kReset, now);
    return;
  }
  if (c.out_sent == c.out.size()) {
    c.out.clear();
    c.out_sent = 0;
  }
  uint32_t want = c.out.empty() ? EPOLLIN : (EPOLLIN | EPOLLOUT);
  if (want != c.interest) {
    c.interest = want;
    (void)poller_.Modify(c.transport.fd(), want, static_cast<IoHandler*>(&c));
  }
}

void H2Worker::OnReadable(Conn& c, Nanos now) {
  for (;;) {
    IoResult r = c.transport.Read(buf_.data(), buf_.size());
    if (r.status == IoStatus::kOk) {
      if (Recording(now)) shard_.counters.bytes_in += static_cast<int64_t>(r.bytes);
      if (!c.h2->Receive(buf_.data(), r.bytes)) {
        Lost(c, FailureKind::kProtocol, now);
        return;
      }
      if (!c.transport.tls() && r.bytes < buf_.size()) return;
      continue;
    }
    if (r.status == IoStatus::kWantRead) return;
    if (r.status == IoStatus::kWantWrite) {
      c.interest = EPOLLIN | EPOLLOUT;
      (void)poller_.Modify(c.transport.fd(), c.interest, static_cast<IoHandler*>(&c));
      return;
    }
    // The server closed: normal after its GOAWAY once our streams are done.
    if (c.h2->closing() && c.active == 0) Recycle(c, now);
    else Lost(c, r.status == IoStatus::kTlsError ? FailureKind::kTls : FailureKind::kReset, now);
    return;
  }
}

// After reading or connecting: new streams where there is room, frames out, and a
// connection the server is retiring replaced once its last stream ended.
void H2Worker::AfterIo(Conn& c, Nanos now) {
  if (c.h2 != nullptr && c.h2->closing() && c.active == 0) {
    Recycle(c, now);
    return;
  }
  if (open_) Dispatch(now);
  else Fill(c, now);
  if (c.state == Conn::State::kReady) Flush(c, now);
}

void H2Worker::OnStreamDone(h2::H2Stream* hs, uint32_t error_code, bool refused) {
  auto* s = static_cast<Stream*>(hs);
  Conn& c = *s->conn;
  --c.active;
  --active_;
  Nanos now = clock_.Now();
  if (!s->timed_out) {
    if (error_code == 0) {
      if (Recording(s->intended)) {
        Counters& k = shard_.counters;
        ++k.requests;
        ++k.responses;
        ++k.status[s->status >= 100 && s->status < 600 ? static_cast<size_t>(s->status) : 0];
        if (s->status < 200 || s->status >= 400) ++k.failed;
        shard_.duration.Record((now - s->intended) / kMicro);
        shard_.service.Record((now - s->sent) / kMicro);
      }
    } else if (refused && !s->retried && open_) {
      retry_.push_back(s->intended);
    } else if (!(refused && !open_)) {
      // A refused stream in the closed model was never processed: its slot refills.
      CountFailure(s->intended, FailureKind::kReset);
    }
  }
  Release(s);
}

void H2Worker::Release(Stream* s) {
  Stream* last = live_.back();
  live_[s->live_index] = last;
  last->live_index = s->live_index;
  live_.pop_back();
  s->conn = nullptr;
  s->id = -1;
  free_.push_back(s);
}

void H2Worker::CountFailure(Nanos intended, FailureKind kind) {
  if (!Recording(intended)) return;
  ++shard_.counters.requests;
  ++shard_.counters.failed;
  ++shard_.counters.failures[static_cast<size_t>(kind)];
}

void H2Worker::ConnectFailed(Conn& c, FailureKind kind, Nanos now) {
  // As in HTTP/1: a failed connect fails the request it was for (closed model: one per
  // attempt; open model: the oldest waiting arrival).
  if (!open_) {
    if (Sending(now)) CountFailure(now, kind);
  } else if (!queue_.empty()) {
    CountFailure(queue_.front(), kind);
    queue_.pop_front();
    late_marked_ = std::max<size_t>(late_marked_, 1) - 1;
  } else {
    ++shard_.counters.reconnect_failures;
  }
  c.h2.reset();
  c.transport.Close();
  c.interest = 0;
  c.state = Conn::State::kBackoff;
  c.retry_at = now + std::min(kMaxBackoff, kMinBackoff << std::min(c.backoff, 7));
  ++c.backoff;
}

void H2Worker::Lost(Conn& c, FailureKind kind, Nanos now) {
  for (size_t i = live_.size(); i-- > 0;) {
    Stream* s = live_[i];
    if (s->conn != &c) continue;
    if (!s->timed_out) CountFailure(s->intended, kind);
    --c.active;
    --active_;
    Release(s);
  }
  Recycle(c, now);
}

void H2Worker::Recycle(Conn& c, Nanos now) {
  // Streams still attached (a GOAWAY'd connection closing early) were counted by Lost.
  c.h2.reset();
  c.transport.Close();
  c.interest = 0;
  c.state = Conn::State::kClosed;
  bool wanted = Sending(now) || !queue_.empty() || !retry_.empty();
  if (wanted) StartConnect(c, now);
}

void H2Worker::Scan(Nanos now) {
  for (size_t i = live_.size(); i-- > 0;) {
    Stream* s = live_[i];
    if (s->timed_out || now < s->intended + plan_.timeout) continue;
    s->timed_out = true;
    CountFailure(s->intended, FailureKind::kTimeout);
    s->conn->h2->Cancel(s);
  }
  for (auto& cp : conns_) {
    Conn& c = *cp;
    switch (c.state) {
      case Conn::State::kConnecting:
        if (now >= c.deadline) ConnectFailed(c, FailureKind::kConnect, now);
        break;
      case Conn::State::kHandshaking:
        if (now >= c.deadline) ConnectFailed(c, FailureKind::kTls, now);
        break;
      case Conn::State::kBackoff:
        if (now >= c.retry_at) {
          if (Sending(now) || !queue_.empty() || !retry_.empty()) StartConnect(c, now);
          else c.state = Conn::State::kClosed;
        }
        break;
      case Conn::State::kReady:
        Flush(c, now);  // RST_STREAMs of timed-out streams
        break;
      case Conn::State::kClosed:
        break;
    }
  }
  // Arrivals that waited for a stream as long as a request may take fail as timeouts.
  while (!queue_.empty() && now - queue_.front() >= plan_.timeout) {
    CountFailure(queue_.front(), FailureKind::kTimeout);
    queue_.pop_front();
    late_marked_ = std::max<size_t>(late_marked_, 1) - 1;
  }
}

void H2Worker::PublishInterval(bool final) {
  IntervalSnapshot s;
  s.worker = plan_.index;
  s.second = second_;
  s.final = final;
  shard_.inflight = active_;
  s.shard = std::move(shard_);
  shard_ = Shard(plan_.histograms);
  if (final) {
    s.thread_cpu_s = ThreadCpuSeconds();
    s.wall_s = static_cast<double>(clock_.Now() - start_) / 1e9;
  }
  sink_.Publish(std::move(s));
  ++second_;
}

void H2Worker::PreConnect() {
  std::vector<epoll_event> events(kMaxEvents);
  Nanos now = clock_.Now();
  const Nanos give_up = now + std::min<Nanos>(plan_.timeout, 5 * kSecond);
  for (auto& c : conns_) StartConnect(*c, now);
  auto pending = [&] {
    return std::any_of(conns_.begin(), conns_.end(), [](const auto& c) {
      return c->state == Conn::State::kConnecting || c->state == Conn::State::kHandshaking;
    });
  };
  while (pending() && now < give_up) {
    int n = poller_.Wait(events.data(), kMaxEvents, kScanInterval);
    for (int i = 0; i < n; ++i) {
      static_cast<IoHandler*>(events[static_cast<size_t>(i)].data.ptr)->OnIo(events[static_cast<size_t>(i)].events,
                                                                             clock_.Now());
    }
    now = clock_.Now();
  }
}

void H2Worker::Run() {
  if (open_) {
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    PreConnect();
  }
  start_ = gate_.ReadyAndWait();
  measure_start_ = start_ + plan_.warmup;
  stop_sending_ = measure_start_ + plan_.duration;
  hard_stop_ = stop_sending_ + plan_.grace;
  if (open_) schedule_.emplace(start_, stop_sending_, plan_.rate, plan_.index, plan_.workers);
  std::vector<epoll_event> events(kMaxEvents);
  Nanos now = clock_.Now();
  next_snapshot_ = measure_start_ + kSecond;
  while (now < start_) {
    poller_.Wait(events.data(), kMaxEvents, start_ - now);
    now = clock_.Now();
  }
  if (!open_) {
    for (auto& c : conns_) StartConnect(*c, now);
  } else {
    // Connections opened before the start: their SETTINGS may still be unread.
    for (auto& c : conns_) {
      if (c->state == Conn::State::kReady) Flush(*c, now);
    }
  }
  Nanos next_scan = now + kScanInterval;
  for (;;) {
    now = clock_.Now();
    if (!stopping_ && interrupted_.load(std::memory_order_relaxed)) {
      stopping_ = true;
      hard_stop_ = std::min(hard_stop_, now + plan_.grace);
    }
    if (schedule_ && !stopping_ && schedule_->TakeDue(now, queue_) > 0) Dispatch(now);
    if (now >= next_scan) {
      Scan(now);
      next_scan = now + kScanInterval;
    }
    while (now >= next_snapshot_) {
      PublishInterval(false);
      next_snapshot_ += kSecond;
    }
    if (!Sending(now)) {
      if (active_ == 0 && queue_.empty() && retry_.empty()) break;
      if (now >= hard_stop_) {
        for (Stream* s : live_) {
          if (!s->timed_out) CountFailure(s->intended, FailureKind::kTimeout);
        }
        for (Nanos t : queue_) CountFailure(t, FailureKind::kTimeout);
        for (Nanos t : retry_) CountFailure(t, FailureKind::kTimeout);
        break;
      }
    }
    Nanos wake = std::min({next_scan, next_snapshot_, hard_stop_});
    if (Sending(now)) wake = std::min(wake, stop_sending_);
    if (schedule_ && Sending(now) && !schedule_->done()) wake = std::min(wake, schedule_->next());
    int n = poller_.Wait(events.data(), kMaxEvents, std::max<Nanos>(0, wake - now));
    for (int i = 0; i < n; ++i) {
      static_cast<IoHandler*>(events[static_cast<size_t>(i)].data.ptr)->OnIo(events[static_cast<size_t>(i)].events,
                                                                             clock_.Now());
    }
  }
  for (auto& c : conns_) {
    c->h2.reset();
    c->transport.Close();
  }
  PublishInterval(true);
}

}  // namespace loadcell
