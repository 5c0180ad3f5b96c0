#include "proxy/tcp_proxy.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <memory>
#include <random>
#include <vector>

#include "net/poller.h"

namespace loadcell {
namespace {

constexpr size_t kMaxBuffered = 1 << 20;  // per direction: reading stops above this
constexpr Nanos kTick = 5 * kMilli;       // delayed chunks and paused reads are looked at this often
constexpr Nanos kSlice = 100 * kMilli;    // bandwidth budget period

struct Pipe;

struct Side {
  Pipe* pipe = nullptr;
  bool is_client = false;
  int fd = -1;
  std::string out;    // to write to this side
  bool eof = false;   // this side sent FIN
  bool shut = false;  // we sent FIN to this side
  uint32_t interest = 0;
};

struct Pipe {
  Side client, up;
  bool started = false;  // upstream connect issued
  bool connecting = false;
  bool dead = false;
  std::deque<std::pair<Nanos, std::string>> delayed;  // upstream -> client, held by a latency fault
  size_t delayed_bytes = 0;
  Nanos rx_slice = 0;
  int64_t rx_bytes = 0;
};

void CloseFd(Poller& poller, Side& s, bool reset) {
  if (s.fd < 0) return;
  if (reset) {
    linger l{1, 0};
    setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  poller.Remove(s.fd);
  close(s.fd);
  s.fd = -1;
}

class Relay {
 public:
  Relay(int listen_fd, const Endpoint& upstream, FaultSet& faults, ProxyStats& stats)
      : listen_fd_(listen_fd), upstream_(upstream), faults_(faults), stats_(stats), rng_(std::random_device{}()) {}

  Status Run(const std::atomic<bool>& stop) {
    if (Status s = poller_.Add(listen_fd_, EPOLLIN, nullptr); !s.ok()) return s;
    std::vector<epoll_event> events(256);
    std::vector<char> buf(1 << 16);
    while (!stop.load(std::memory_order_relaxed)) {
      Nanos now = MonotonicClock::ReadNow();
      ActiveFaults f = faults_.At(now);
      for (auto& p : pipes_) Tend(*p, f, now);
      Sweep();
      int n = poller_.Wait(events.data(), static_cast<int>(events.size()), kTick);
      now = MonotonicClock::ReadNow();
      f = faults_.At(now);
      for (int i = 0; i < n; ++i) {
        void* tag = events[static_cast<size_t>(i)].data.ptr;
        uint32_t ev = events[static_cast<size_t>(i)].events;
        if (tag == nullptr) {
          Accept(f);
          continue;
        }
        auto* side = static_cast<Side*>(tag);
        if (side->pipe->dead) continue;
        OnEvent(*side, ev, f, buf, now);
      }
    }
    for (auto& p : pipes_) Kill(*p, false);
    return Status::Ok();
  }

 private:
  bool Chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  void Accept(const ActiveFaults& f) {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      auto p = std::make_unique<Pipe>();
      p->client = {p.get(), true, fd};
      p->up = {p.get(), false, -1};
      ++stats_.connections;
      if (Chance(f.reset)) {
        ++stats_.resets;
        CloseFd(poller_, p->client, true);
        continue;
      }
      (void)poller_.Add(fd, 0, &p->client);
      pipes_.push_back(std::move(p));
    }
  }

  void Connect(Pipe& p) {
    p.started = true;
    int fd = socket(upstream_.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      Kill(p, false);
      return;
    }
    p.up.fd = fd;
    int rc = connect(fd, reinterpret_cast<const sockaddr*>(&upstream_.addr), upstream_.len);
    if (rc != 0 && errno != EINPROGRESS) {
      Kill(p, false);
      return;
    }
    p.connecting = rc != 0;
    (void)poller_.Add(fd, 0, &p.up);
  }

  // Releases what a latency fault held, starts upstream connects, and sets each side's
  // interest from the faults and the buffers.
  void Tend(Pipe& p, const ActiveFaults& f, Nanos now) {
    if (p.dead) return;
    while (!p.delayed.empty() && p.delayed.front().first <= now) {
      p.delayed_bytes -= p.delayed.front().second.size();
      p.client.out += p.delayed.front().second;
      p.delayed.pop_front();
    }
    if (!p.started && !f.blackhole) Connect(p);
    if (p.dead) return;
    if (!f.blackhole) {
      Flush(p.client);
      if (!p.connecting) Flush(p.up);
    }
    if (p.dead) return;
    HalfClose(p);
    if (p.dead) return;
    bool budget = f.bandwidth == 0 || now - p.rx_slice >= kSlice || p.rx_bytes < std::max<int64_t>(1, f.bandwidth / 10);
    uint32_t c = 0, u = 0;
    if (!f.blackhole) {
      if (!p.client.eof && p.started && p.up.out.size() < kMaxBuffered) c |= EPOLLIN;
      if (!p.client.out.empty()) c |= EPOLLOUT;
      if (p.connecting) {
        u |= EPOLLOUT;
      } else if (p.up.fd >= 0) {
        if (!p.up.eof && budget && p.client.out.size() + p.delayed_bytes < kMaxBuffered) u |= EPOLLIN;
        if (!p.up.out.empty()) u |= EPOLLOUT;
      }
    }
    SetInterest(p.client, c);
    SetInterest(p.up, u);
  }

  void SetInterest(Side& s, uint32_t ev) {
    if (s.fd < 0 || s.interest == ev) return;
    s.interest = ev;
    (void)poller_.Modify(s.fd, ev, &s);
  }

  void OnEvent(Side& s, uint32_t ev, const ActiveFaults& f, std::vector<char>& buf, Nanos now) {
    Pipe& p = *s.pipe;
    if (!s.is_client && p.connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        Kill(p, false);  // the upstream refused: the client sees its connection closed
        return;
      }
      p.connecting = false;
    }
    if ((ev & (EPOLLERR | EPOLLHUP)) != 0 && (s.interest & EPOLLIN) == 0) {
      // Reported whatever the interest (level-triggered): a peer that is gone while its
      // side is paused (a blackhole, a full buffer) ends the pair rather than spin.
      Kill(p, (ev & EPOLLERR) != 0);
      return;
    }
    if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) Read(s, f, buf, now);
    if (p.dead) return;
    if ((ev & EPOLLOUT) != 0) Flush(s);
  }

  void Read(Side& s, const ActiveFaults& f, std::vector<char>& buf, Nanos now) {
    Pipe& p = *s.pipe;
    size_t cap = buf.size();
    if (!s.is_client && f.bandwidth > 0) {
      if (now - p.rx_slice >= kSlice) {
        p.rx_slice = now;
        p.rx_bytes = 0;
      }
      int64_t left = std::max<int64_t>(1, f.bandwidth / 10) - p.rx_bytes;
      if (left <= 0) return;
      cap = std::min(cap, static_cast<size_t>(left));
    }
    ssize_t n = read(s.fd, buf.data(), cap);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      Kill(p, true);  // reset by the peer: the other side is reset too
      return;
    }
    if (n == 0) {
      s.eof = true;
      HalfClose(p);
      return;
    }
    if (s.is_client) {
      if (Chance(f.reset)) {
        ++stats_.resets;
        Kill(p, true);
        return;
      }
      stats_.bytes_up += n;
      p.up.out.append(buf.data(), static_cast<size_t>(n));
      if (!p.connecting) Flush(p.up);
      return;
    }
    stats_.bytes_down += n;
    p.rx_bytes += n;
    if (f.latency > 0 || f.jitter > 0 || !p.delayed.empty()) {
      // In order: a chunk is never released before the one read before it.
      Nanos at = now + FaultDelay(f, std::uniform_real_distribution<double>(0, 1)(rng_));
      if (!p.delayed.empty()) at = std::max(at, p.delayed.back().first);
      p.delayed.emplace_back(at, std::string(buf.data(), static_cast<size_t>(n)));
      p.delayed_bytes += static_cast<size_t>(n);
      return;
    }
    p.client.out.append(buf.data(), static_cast<size_t>(n));
    Flush(p.client);
  }

  void Flush(Side& s) {
    if (s.fd < 0 || s.out.empty()) return;
    ssize_t n = send(s.fd, s.out.data(), s.out.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      Kill(*s.pipe, true);
      return;
    }
    s.out.erase(0, static_cast<size_t>(n));
  }

  // A side that sent FIN gets its FIN passed on once what it sent is delivered.
  void HalfClose(Pipe& p) {
    if (p.client.eof && p.up.out.empty() && !p.up.shut && p.up.fd >= 0 && !p.connecting) {
      shutdown(p.up.fd, SHUT_WR);
      p.up.shut = true;
    }
    if (p.up.eof && p.client.out.empty() && p.delayed.empty() && !p.client.shut) {
      shutdown(p.client.fd, SHUT_WR);
      p.client.shut = true;
    }
    if (p.client.eof && p.up.eof && p.client.shut && p.up.shut) Kill(p, false);
    // The client left before an upstream connection was made: nothing to pass on.
    if (p.client.eof && !p.started) Kill(p, false);
  }

  void Kill(Pipe& p, bool reset) {
    if (p.dead) return;
    p.dead = true;
    CloseFd(poller_, p.client, reset);
    CloseFd(poller_, p.up, reset);
  }

  void Sweep() {
    std::erase_if(pipes_, [](const std::unique_ptr<Pipe>& p) { return p->dead; });
  }

  int listen_fd_;
  Endpoint upstream_;
  FaultSet& faults_;
  ProxyStats& stats_;
  Poller poller_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<Pipe>> pipes_;
};

}  // namespace

Status RunProxy(int listen_fd, const Endpoint& upstream, FaultSet& faults, ProxyStats& stats,
                const std::atomic<bool>& stop) {
  Relay relay(listen_fd, upstream, faults, stats);
  return relay.Run(stop);
}

}  // namespace loadcell
