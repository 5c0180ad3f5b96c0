#include "engine/worker.h"

#include <sys/prctl.h>

#include <algorithm>

#include "protocol/http1/response_parser.h"

namespace loadcell {
namespace {

constexpr size_t kReadBuffer = 64 * 1024;
constexpr Nanos kScanInterval = 10 * kMilli;  // timeout granularity
constexpr Nanos kMinBackoff = 10 * kMilli;
constexpr Nanos kMaxBackoff = 1 * kSecond;
constexpr int kMaxEvents = 256;

}  // namespace

struct Worker::Conn {
  // kQueued: closed model, the next request waits for the end of the event batch.
  enum class State { kClosed, kBackoff, kConnecting, kHandshaking, kIdle, kQueued, kWriting, kReading };
  Transport transport;
  http1::ResponseParser parser;
  State state = State::kClosed;
  uint32_t interest = 0;
  bool has_request = false;
  bool reused = false;   // a response already came back on this connection
  bool retried = false;  // the current request was already resent once
  int backoff = 0;
  size_t written = 0;
  Nanos intended = 0;  // open: scheduled time; closed: equals sent
  Nanos sent = 0;
  Nanos deadline = 0;
  Nanos retry_at = 0;
};

void PublishShard(SnapshotSink& sink, int worker, int64_t second, bool final, int64_t inflight, double wall_s,
                  Shard* shard, const HistogramSpec& spec) {
  IntervalSnapshot s;
  s.worker = worker;
  s.second = second;
  s.final = final;
  shard->inflight = inflight;
  s.shard = std::move(*shard);
  *shard = Shard(spec);
  if (final) {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    s.thread_cpu_s = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    s.wall_s = wall_s;
  }
  sink.Publish(std::move(s));
}

Worker::Worker(const WorkerPlan& plan, const Clock& clock, SnapshotSink& sink, StartGate& gate,
               const std::atomic<bool>& interrupted)
    : plan_(plan),
      clock_(clock),
      sink_(sink),
      gate_(gate),
      interrupted_(interrupted),
      open_(plan.rate > 0),
      buf_(kReadBuffer),
      rng_(plan.seed),
      shard_(plan.histograms) {
  conns_.reserve(static_cast<size_t>(plan_.connections));
  for (int i = 0; i < plan_.connections; ++i) conns_.push_back(std::make_unique<Conn>());
}

Worker::~Worker() = default;

bool Worker::Sending(Nanos now) const { return !stopping_ && now < stop_sending_; }

void Worker::SetInterest(Conn& c, uint32_t events) {
  if (c.interest == events) return;
  c.interest = events;
  (void)poller_.Modify(c.transport.fd(), events, &c);
}

void Worker::StartConnect(Conn& c, Nanos now) {
  if (!open_ && !c.has_request) {
    // Closed model: the connection exists to carry one request after another; a failed
    // connect fails the request it was opened for.
    c.has_request = true;
    c.intended = now;
    ++active_;
  }
  c.parser.Reset(plan_.head_request);
  c.deadline = (open_ && c.has_request ? c.intended : now) + plan_.timeout;
  IoResult r = c.transport.Connect(plan_.endpoint);
  if (r.status != IoStatus::kOk && r.status != IoStatus::kWantWrite) {
    c.state = Conn::State::kClosed;
    Fail(c, FailureKind::kConnect, now);
    return;
  }
  c.state = Conn::State::kConnecting;
  c.interest = EPOLLOUT;
  if (!poller_.Add(c.transport.fd(), EPOLLOUT, &c).ok()) {
    Fail(c, FailureKind::kConnect, now);
  }
}

void Worker::OnConnected(Conn& c, Nanos now) {
  c.backoff = 0;
  if (Recording(now)) ++shard_.counters.connects;
  SetInterest(c, EPOLLIN);
  if (c.has_request) {
    if (!open_ && !Sending(now)) {
      // Closed model, stopped while connecting: the request never started.
      c.has_request = false;
      --active_;
      c.transport.Close();
      c.state = Conn::State::kClosed;
      return;
    }
    StartRequest(c, open_ ? c.intended : now, now);
    return;
  }
  c.state = Conn::State::kIdle;
  idle_.push_back(&c);
  Dispatch(now);
}

void Worker::StartRequest(Conn& c, Nanos intended, Nanos now) {
  c.state = Conn::State::kWriting;
  c.written = 0;
  c.intended = intended;
  c.sent = now;
  c.deadline = intended + plan_.timeout;
  c.parser.Reset(plan_.head_request);
  if (open_ && Recording(intended) && !c.retried) shard_.send_lag.Record((now - intended) / kMicro);
  ContinueWrite(c, now);
}

void Worker::ContinueWrite(Conn& c, Nanos now) {
  const std::string& req = *plan_.request;
  while (c.written < req.size()) {
    IoResult r = c.transport.Write(req.data() + c.written, req.size() - c.written);
    switch (r.status) {
      case IoStatus::kOk:
        c.written += r.bytes;
        if (Recording(c.intended)) shard_.counters.bytes_out += static_cast<int64_t>(r.bytes);
        continue;
      case IoStatus::kWantWrite: SetInterest(c, EPOLLIN | EPOLLOUT); return;
      case IoStatus::kWantRead: SetInterest(c, EPOLLIN); return;
      case IoStatus::kTlsError: Fail(c, FailureKind::kTls, now); return;
      default:
        if (c.reused && !c.retried) {
          // The server closed an idle keep-alive connection as we reused it: resend once.
          c.retried = true;
          c.transport.Close();
          StartConnect(c, now);
          return;
        }
        Fail(c, FailureKind::kReset, now);
        return;
    }
  }
  c.state = Conn::State::kReading;
  SetInterest(c, EPOLLIN);
}

void Worker::OnEvent(Conn& c, uint32_t events, Nanos now) {
  switch (c.state) {
    case Conn::State::kConnecting: {
      if (c.transport.FinishConnect().status != IoStatus::kOk) {
        Fail(c, FailureKind::kConnect, now);
        return;
      }
      if (plan_.tls == nullptr) {
        OnConnected(c, now);
        return;
      }
      SSL* ssl = plan_.tls->NewSession(c.transport.fd(), plan_.server_name);
      if (ssl == nullptr) {
        Fail(c, FailureKind::kTls, now);
        return;
      }
      c.transport.StartTls(ssl);
      c.state = Conn::State::kHandshaking;
      StepHandshake(c, now);
      return;
    }
    case Conn::State::kHandshaking: StepHandshake(c, now); return;
    case Conn::State::kWriting:
      if ((events & EPOLLOUT) != 0) ContinueWrite(c, now);
      if (c.state == Conn::State::kWriting && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) OnReadable(c, now);
      return;
    case Conn::State::kReading: OnReadable(c, now); return;
    case Conn::State::kIdle: {
      // An idle connection is readable only when the server closed it (or misbehaves):
      // either way it is replaced without failing any request.
      idle_.erase(std::find(idle_.begin(), idle_.end(), &c));
      Recycle(c, now);
      return;
    }
    case Conn::State::kQueued:  // written right after this batch; a close shows up then
    case Conn::State::kClosed:
    case Conn::State::kBackoff: return;
  }
}

void Worker::StepHandshake(Conn& c, Nanos now) {
  IoResult r = c.transport.Handshake();
  if (r.status == IoStatus::kOk)
    OnConnected(c, now);
  else if (r.status == IoStatus::kWantRead)
    SetInterest(c, EPOLLIN);
  else if (r.status == IoStatus::kWantWrite)
    SetInterest(c, EPOLLOUT);
  else
    Fail(c, FailureKind::kTls, now);
}

void Worker::OnReadable(Conn& c, Nanos now) {
  for (;;) {
    IoResult r = c.transport.Read(buf_.data(), buf_.size());
    switch (r.status) {
      case IoStatus::kOk: {
        if (Recording(c.intended)) shard_.counters.bytes_in += static_cast<int64_t>(r.bytes);
        size_t used = c.parser.Feed(buf_.data(), r.bytes);
        if (c.parser.error() != http1::ParseError::kNone) {
          Fail(c, FailureKind::kProtocol, now);
          return;
        }
        if (c.parser.done()) {
          // Bytes after a response we did not pipeline: the stream can no longer be
          // trusted, so the connection is replaced after this response.
          Complete(c, now, used < r.bytes);
          return;
        }
        // A plain socket read that did not fill the buffer has drained the socket; TLS
        // may hold decrypted bytes back, so it reads until it would block.
        if (!c.transport.tls() && r.bytes < buf_.size()) return;
        continue;
      }
      case IoStatus::kWantRead: return;
      case IoStatus::kWantWrite: SetInterest(c, EPOLLIN | EPOLLOUT); return;
      case IoStatus::kEof:
        if (c.parser.OnEof()) {
          Complete(c, now, true);
          return;
        }
        [[fallthrough]];
      case IoStatus::kReset:
      case IoStatus::kError:
        if (!c.parser.started() && c.reused && !c.retried) {
          c.retried = true;
          c.transport.Close();
          StartConnect(c, now);
          return;
        }
        // Closed mid-response is a protocol failure (truncated); a reset or a close
        // before any byte is a reset.
        Fail(c, c.parser.started() && r.status == IoStatus::kEof ? FailureKind::kProtocol : FailureKind::kReset, now);
        return;
      case IoStatus::kTlsError: Fail(c, FailureKind::kTls, now); return;
    }
  }
}

void Worker::Complete(Conn& c, Nanos now, bool force_close) {
  if (Recording(c.intended)) {
    Counters& k = shard_.counters;
    int status = c.parser.status();
    ++k.requests;
    ++k.responses;
    ++k.status[status >= 100 && status < 600 ? static_cast<size_t>(status) : 0];
    if (status < 200 || status >= 400) ++k.failed;
    shard_.duration.Record((now - c.intended) / kMicro);
    shard_.service.Record((now - c.sent) / kMicro);
  }
  c.has_request = false;
  c.reused = true;
  c.retried = false;
  --active_;
  if (c.parser.keep_alive() && !force_close) {
    NextForConnection(c, now);
  } else {
    Recycle(c, now);
  }
}

void Worker::Fail(Conn& c, FailureKind kind, Nanos now) {
  Counters& k = shard_.counters;
  auto count_failure = [&](Nanos intended) {
    if (!Recording(intended)) return;
    ++k.requests;
    ++k.failed;
    ++k.failures[static_cast<size_t>(kind)];
  };
  if (c.has_request) {
    count_failure(c.intended);
    c.has_request = false;
    --active_;
  } else if (kind == FailureKind::kConnect || kind == FailureKind::kTls) {
    // Open model: the oldest arrival was waiting for this connection.
    if (!queue_.empty()) {
      count_failure(queue_.front());
      queue_.pop_front();
      late_marked_ = std::max<size_t>(late_marked_, 1) - 1;
    } else {
      ++k.reconnect_failures;
    }
  }
  c.retried = false;
  c.reused = false;
  c.transport.Close();
  c.interest = 0;
  if (kind == FailureKind::kConnect || kind == FailureKind::kTls) {
    // Back off so that a refusing target gets a bounded reconnect rate, not a busy loop.
    c.state = Conn::State::kBackoff;
    c.retry_at = now + std::min(kMaxBackoff, kMinBackoff << std::min(c.backoff, 7));
    ++c.backoff;
    return;
  }
  c.state = Conn::State::kClosed;
  Recycle(c, now);
}

void Worker::NextForConnection(Conn& c, Nanos now) {
  if (!open_) {
    if (!Sending(now)) {
      Recycle(c, now);
      return;
    }
    c.has_request = true;
    ++active_;
    // Sent after the whole event batch has been read: the server then gets the next
    // requests together, and both sides find more work per wake-up.
    c.state = Conn::State::kQueued;
    deferred_.push_back(&c);
    return;
  }
  c.state = Conn::State::kIdle;
  idle_.push_back(&c);
  Dispatch(now);
}

void Worker::FlushDeferred() {
  if (deferred_.empty()) return;
  Nanos now = clock_.Now();
  for (Conn* c : deferred_) {
    // A deferred connection may have failed meanwhile (it is then no longer kWriting).
    if (c->state == Conn::State::kQueued) StartRequest(*c, now, now);
  }
  deferred_.clear();
}

void Worker::Recycle(Conn& c, Nanos now) {
  c.transport.Close();
  c.interest = 0;
  c.state = Conn::State::kClosed;
  c.reused = false;
  bool wanted = open_ ? (Sending(now) || !queue_.empty()) : Sending(now);
  if (wanted) StartConnect(c, now);
}

void Worker::Dispatch(Nanos now) {
  while (!idle_.empty() && !queue_.empty()) {
    Conn* c = idle_.back();
    idle_.pop_back();
    Nanos intended = queue_.front();
    queue_.pop_front();
    late_marked_ = std::max<size_t>(late_marked_, 1) - 1;
    c->has_request = true;
    ++active_;
    StartRequest(*c, intended, now);
  }
  // Whatever is still queued found every connection busy: it starts late.
  if (queue_.size() > late_marked_) {
    if (Recording(now)) shard_.counters.late += static_cast<int64_t>(queue_.size() - late_marked_);
    late_marked_ = queue_.size();
  }
}

void Worker::Scan(Nanos now) {
  for (auto& cp : conns_) {
    Conn& c = *cp;
    switch (c.state) {
      case Conn::State::kConnecting:
        if (now >= c.deadline) Fail(c, FailureKind::kConnect, now);
        break;
      case Conn::State::kHandshaking:
        if (now >= c.deadline) Fail(c, FailureKind::kTls, now);
        break;
      case Conn::State::kWriting:
      case Conn::State::kReading:
        if (now >= c.deadline) Fail(c, FailureKind::kTimeout, now);
        break;
      case Conn::State::kBackoff: {
        bool wanted = open_ ? (Sending(now) || !queue_.empty()) : (Sending(now) || c.has_request);
        if (now >= c.retry_at) {
          if (wanted)
            StartConnect(c, now);
          else
            c.state = Conn::State::kClosed;
        }
        break;
      }
      case Conn::State::kIdle:
      case Conn::State::kQueued:
      case Conn::State::kClosed: break;
    }
  }
  ExpireQueued(now, plan_.timeout);
}

void Worker::ExpireQueued(Nanos now, Nanos max_wait) {
  // Arrivals that waited for a connection this long fail as timeouts.
  while (!queue_.empty() && now - queue_.front() >= max_wait) {
    if (Recording(queue_.front())) {
      ++shard_.counters.requests;
      ++shard_.counters.failed;
      ++shard_.counters.failures[static_cast<size_t>(FailureKind::kTimeout)];
    }
    queue_.pop_front();
    late_marked_ = std::max<size_t>(late_marked_, 1) - 1;
  }
}

void Worker::PublishInterval(bool final) {
  PublishShard(sink_, plan_.index, second_, final, active_, static_cast<double>(clock_.Now() - start_) / 1e9, &shard_,
               plan_.histograms);
  ++second_;
}

void Worker::PreConnect() {
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
      OnEvent(*static_cast<Conn*>(events[static_cast<size_t>(i)].data.ptr), events[static_cast<size_t>(i)].events,
              clock_.Now());
    }
    now = clock_.Now();
    Scan(now);
  }
}

void Worker::Run() {
  // The default 50 us timer slack would show up as send lag in the open model.
  if (plan_.rate > 0) {
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    PreConnect();
  }
  start_ = gate_.ReadyAndWait();
  measure_start_ = start_ + plan_.warmup;
  stop_sending_ = measure_start_ + plan_.duration;
  hard_stop_ = stop_sending_ + plan_.grace;
  if (plan_.rate > 0) schedule_.emplace(start_, stop_sending_, plan_.rate, plan_.index, plan_.workers);

  std::vector<epoll_event> events(kMaxEvents);
  Nanos now = clock_.Now();
  next_snapshot_ = measure_start_ + kSecond;
  while (now < start_) {
    poller_.Wait(events.data(), kMaxEvents, start_ - now);
    now = clock_.Now();
  }
  if (!open_) {
    for (auto& c : conns_) StartConnect(*c, now);
  }
  Nanos next_scan = now + kScanInterval;

  for (;;) {
    now = clock_.Now();
    if (!stopping_ && interrupted_.load(std::memory_order_relaxed)) {
      stopping_ = true;
      // Interrupted: in-flight requests get the same bounded grace as at a normal end.
      hard_stop_ = std::min(hard_stop_, now + plan_.grace);
    }
    // Arrivals scheduled before the end are taken even when the loop wakes up after it (a
    // loaded machine): they belong to the run and go out late, their lag counted. Only an
    // interruption drops them.
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
      if (active_ == 0 && queue_.empty()) break;
      if (now >= hard_stop_) {
        for (auto& c : conns_) {
          if (c->has_request) Fail(*c, FailureKind::kTimeout, now);
        }
        ExpireQueued(now, 0);  // every arrival still queued fails as a timeout
        break;
      }
    }
    Nanos wake = std::min({next_scan, next_snapshot_, hard_stop_});
    if (Sending(now)) wake = std::min(wake, stop_sending_);
    if (schedule_ && Sending(now) && !schedule_->done()) wake = std::min(wake, schedule_->next());
    int n = poller_.Wait(events.data(), kMaxEvents, std::max<Nanos>(0, wake - now));
    for (int i = 0; i < n; ++i) {
      OnEvent(*static_cast<Conn*>(events[static_cast<size_t>(i)].data.ptr), events[static_cast<size_t>(i)].events,
              clock_.Now());
    }
    FlushDeferred();
  }
  for (auto& c : conns_) c->transport.Close();
  PublishInterval(true);
}

}  // namespace loadcell
