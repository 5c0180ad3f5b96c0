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

}  // namespace

struct H2Worker::Conn {
  explicit Conn(H2Worker& w) : client(w.poller_, w.plan_.tls, w.buf_, w) {}
  h2::H2Client client;
  bool backoff_wait = false;
  int backoff = 0;
  Nanos retry_at = 0;
};

struct H2Worker::Stream : h2::H2Stream {
  Conn* conn = nullptr;
  Nanos intended = 0;
  Nanos sent = 0;
  int resends = 0;         // times sent again after the server did not process it
  bool timed_out = false;  // already counted; the close that follows is bookkeeping
  size_t live_index = 0;
};

H2Worker::H2Worker(const WorkerPlan& plan, const Clock& clock, SnapshotSink& sink, StartGate& gate,
                   const std::atomic<bool>& interrupted)
    : plan_(plan),
      clock_(clock),
      sink_(sink),
      gate_(gate),
      interrupted_(interrupted),
      open_(plan.rate > 0),
      buf_(kReadBuffer),
      shard_(plan.histograms) {
  for (int i = 0; i < plan_.connections; ++i) conns_.push_back(std::make_unique<Conn>(*this));
}

H2Worker::~H2Worker() = default;

void H2Worker::StartConnect(Conn& c, Nanos now) {
  c.backoff_wait = false;
  c.client.Connect(plan_.endpoint, plan_.server_name, now);
}

void H2Worker::OnReady(h2::H2Client& client, Nanos now) {
  Conn* c = nullptr;
  for (auto& cp : conns_) {
    if (&cp->client == &client) c = cp.get();
  }
  c->backoff = 0;
  if (Recording(now)) ++shard_.counters.connects;
  if (open_)
    Dispatch(now);
  else
    Fill(*c, now);
}

void H2Worker::OnDown(h2::H2Client& client, std::optional<Failure> failure, bool was_ready, Nanos now) {
  Conn* c = nullptr;
  for (auto& cp : conns_) {
    if (&cp->client == &client) c = cp.get();
  }
  if (!was_ready && failure != std::nullopt) {
    // As in HTTP/1: a failed connect fails the request it was for (closed model: one per
    // attempt; open model: the oldest waiting arrival), then the connection backs off.
    FailureKind kind = failure.value_or(Failure::kReset);
    if (!open_) {
      if (Sending(now)) CountFailure(now, kind);
    } else if (!queue_.empty()) {
      CountFailure(queue_.front(), kind);
      queue_.pop_front();
      late_marked_ = std::max<size_t>(late_marked_, 1) - 1;
    } else {
      ++shard_.counters.reconnect_failures;
    }
    c->backoff_wait = true;
    c->retry_at = now + std::min(kMaxBackoff, kMinBackoff << std::min(c->backoff, 7));
    ++c->backoff;
    return;
  }
  // A connection that was up (the server retired it, or it broke): replace it now.
  if (Wanted(now)) StartConnect(*c, now);
}

void H2Worker::OnBytes(int64_t sent, int64_t received) {
  if (!Recording(io_now_)) return;
  shard_.counters.bytes_out += sent;
  shard_.counters.bytes_in += received;
}

bool H2Worker::Submit(Conn& c, Nanos intended, int resends, Nanos now) {
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
  s->resends = resends;
  s->timed_out = false;
  if (!c.client.Submit(*plan_.h2_request, s)) {
    free_.push_back(s);
    return false;
  }
  ++active_;
  s->live_index = live_.size();
  live_.push_back(s);
  if (open_ && resends == 0 && Recording(intended)) shard_.send_lag.Record((now - intended) / kMicro);
  return true;
}

void H2Worker::Fill(Conn& c, Nanos now) {
  if (open_) return;
  // No Flush here: this runs inside nghttp2's callbacks, and the client flushes after them.
  for (int n = c.client.Capacity(plan_.streams); n > 0 && Sending(now); --n) {
    if (!Submit(c, now, 0, now)) break;
  }
}

void H2Worker::Dispatch(Nanos now) {
  // Resends first (they are the oldest), then the arrivals waiting for a stream.
  auto take = [&](auto& q, auto intended, auto resends) {
    for (size_t k = 0; k < conns_.size() && !q.empty(); ++k) {
      Conn& c = *conns_[(next_conn_ + k) % conns_.size()];
      bool used = false;
      for (int n = c.client.Capacity(plan_.streams); n > 0 && !q.empty(); --n) {
        if (!Submit(c, intended(q.front()), resends(q.front()), now)) break;
        if (resends(q.front()) == 0) late_marked_ = std::max<size_t>(late_marked_, 1) - 1;
        q.pop_front();
        used = true;
      }
      if (used) c.client.Flush(now);
    }
  };
  take(
      retry_, [](const Resend& r) { return r.intended; }, [](const Resend& r) { return r.resends; });
  take(
      queue_, [](Nanos t) { return t; }, [](Nanos) { return 0; });
  next_conn_ = (next_conn_ + 1) % std::max<size_t>(1, conns_.size());
  if (queue_.size() > late_marked_) {
    if (Recording(now)) shard_.counters.late += static_cast<int64_t>(queue_.size() - late_marked_);
    late_marked_ = queue_.size();
  }
}

void H2Worker::OnStreamDone(h2::H2Stream* hs, uint32_t error_code, bool refused) {
  auto* s = static_cast<Stream*>(hs);
  Conn& c = *s->conn;
  --active_;
  const Nanos now = io_now_;  // when the event that ended it was read (one clock read per event)
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
    } else if (refused && s->resends < h2::kMaxResends && open_) {
      retry_.push_back({s->intended, s->resends + 1});
    } else if (!(refused && !open_)) {
      // (A refused stream in the closed model was never processed: its slot refills.)
      CountFailure(s->intended, error_code == h2::kConnectionLost ? c.client.last_failure().value_or(Failure::kReset)
                                                                  : FailureKind::kReset);
    }
  }
  Release(s);
  // The next request goes out right away on the same connection (closed model).
  if (!open_ && error_code != h2::kConnectionLost) Fill(c, now);
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

void H2Worker::Scan(Nanos now) {
  for (size_t i = live_.size(); i-- > 0;) {
    Stream* s = live_[i];
    if (s->timed_out || now < s->intended + plan_.timeout) continue;
    s->timed_out = true;
    CountFailure(s->intended, FailureKind::kTimeout);
    s->conn->client.Cancel(s);
  }
  for (auto& cp : conns_) {
    Conn& c = *cp;
    if (c.client.connecting() && now >= c.client.connect_started() + plan_.timeout) {
      c.client.Close();
      OnDown(c.client, Failure::kConnect, false, now);
    } else if (c.backoff_wait && now >= c.retry_at) {
      c.backoff_wait = false;
      if (Wanted(now) || (!open_ && Sending(now))) StartConnect(c, now);
    } else if (c.client.ready()) {
      c.client.Flush(now);  // RST_STREAMs of timed-out streams
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
  PublishShard(sink_, plan_.index, second_, final, active_, static_cast<double>(clock_.Now() - start_) / 1e9, &shard_,
               plan_.histograms);
  ++second_;
}

void H2Worker::PreConnect() {
  std::vector<epoll_event> events(kMaxEvents);
  Nanos now = clock_.Now();
  const Nanos give_up = now + std::min<Nanos>(plan_.timeout, 5 * kSecond);
  for (auto& c : conns_) StartConnect(*c, now);
  auto pending = [&] {
    return std::any_of(conns_.begin(), conns_.end(), [](const auto& c) { return c->client.connecting(); });
  };
  while (pending() && now < give_up) {
    int n = poller_.Wait(events.data(), kMaxEvents, kScanInterval);
    for (int i = 0; i < n; ++i) {
      static_cast<IoHandler*>(events[static_cast<size_t>(i)].data.ptr)
          ->OnIo(events[static_cast<size_t>(i)].events, clock_.Now());
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
  }
  Nanos next_scan = now + kScanInterval;
  for (;;) {
    now = clock_.Now();
    io_now_ = now;
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
        for (const Resend& r : retry_) CountFailure(r.intended, FailureKind::kTimeout);
        break;
      }
    }
    Nanos wake = std::min({next_scan, next_snapshot_, hard_stop_});
    if (Sending(now)) wake = std::min(wake, stop_sending_);
    if (schedule_ && Sending(now) && !schedule_->done()) wake = std::min(wake, schedule_->next());
    int n = poller_.Wait(events.data(), kMaxEvents, std::max<Nanos>(0, wake - now));
    for (int i = 0; i < n; ++i) {
      io_now_ = clock_.Now();
      static_cast<IoHandler*>(events[static_cast<size_t>(i)].data.ptr)
          ->OnIo(events[static_cast<size_t>(i)].events, io_now_);
    }
  }
  for (auto& c : conns_) c->client.Close();
  PublishInterval(true);
}

}  // namespace loadcell
