#include "target/target_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <queue>
#include <random>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "common/clock.h"
#include "net/listen.h"
#include "net/resolver.h"
#include "protocol/http1/ascii.h"
#include "protocol/http1/request.h"
#include "target/demo_api.h"
#include "target/ws_endpoint.h"

namespace loadcell {
namespace {

constexpr size_t kReadBuffer = 64 * 1024;
constexpr int64_t kMaxDemoBody = 1 << 20;

std::string MakeResponse(int status, const char* reason, const std::string& body, bool head, bool close,
                         std::string_view content_type = "text/plain") {
  std::string r = fmt::format(
      "HTTP/1.1 {} {}\r\nServer: loadcell-target\r\nContent-Type: {}\r\n"
      "Content-Length: {}\r\n{}\r\n",
      status, reason, content_type, body.size(), close ? "Connection: close\r\n" : "");
  if (!head) r += body;
  return r;
}

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 413: return "Content Too Large";
    case 426: return "Upgrade Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

struct Delayed {
  Nanos due;
  std::string bytes;
  bool close;
};

struct TConn {
  int fd = -1;
  uint64_t generation = 0;
  std::string in;               // a request split across reads
  int64_t skip_body = 0;        // request body bytes still to discard
  std::string out;              // response bytes the socket did not take yet, from out_sent on
  size_t out_sent = 0;          // an offset, not erase(): a 200 MB body must not be moved per send
  std::deque<Delayed> delayed;  // responses held back by latency or a stall, in order
  bool close_after_flush = false;
  bool want_out = false;
  std::unique_ptr<WsEndpoint> ws;  // set once the connection upgraded to WebSocket
};

// What /metrics serves, counted by each thread in a cache line of its own (one writer:
// a relaxed load and store, no locked add on the request path) and summed when read.
struct alignas(64) ThreadCounters {
  std::atomic<uint64_t> requests{0};
  void CountRequest() { requests.store(requests.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
};

struct Timer {
  Nanos due;
  int fd;
  uint64_t generation;
  bool operator>(const Timer& o) const { return due > o.due; }
};

class TargetThread {
 public:
  TargetThread(const TargetOptions& o, int listen_fd, int stop_fd, Nanos epoch, uint64_t seed, ThreadCounters* counters,
               int index)
      : o_(o),
        listen_fd_(listen_fd),
        stop_fd_(stop_fd),
        epoch_(epoch),
        rng_(seed),
        buf_(kReadBuffer),
        counters_(counters),
        index_(index) {
    body_.assign(o_.body_size, 'x');
    if (!body_.empty()) body_.back() = '\n';
    ok_ = MakeResponse(200, "OK", body_, false, false);
    err_ = MakeResponse(500, "Internal Server Error", "error\n", false, false);
  }
  ~TargetThread() {
    for (auto& c : conns_)
      if (c && c->fd >= 0) close(c->fd);
    if (ep_ >= 0) close(ep_);
  }

  void Run() {
    // Simulated latencies should be what was asked for, not that plus 50 us of timer slack.
    if (!o_.latency.none() || !o_.stall.none()) prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd_;
    epoll_ctl(ep_, EPOLL_CTL_ADD, listen_fd_, &ev);
    ev.data.fd = stop_fd_;
    epoll_ctl(ep_, EPOLL_CTL_ADD, stop_fd_, &ev);
    std::vector<epoll_event> events(512);
    for (;;) {
      // Without pending timers the wait is unbounded: no timer to arm on every wake-up.
      // With them, a nanosecond timeout: millisecond rounding would add up to 1 ms to
      // every --latency the target is asked to simulate.
      timespec ts{};
      timespec* timeout = nullptr;
      if (!timers_.empty()) {
        Nanos wait = std::max<Nanos>(0, timers_.top().due - MonotonicClock::ReadNow());
        ts = {wait / kSecond, wait % kSecond};
        timeout = &ts;
      }
      int n = epoll_pwait2(ep_, events.data(), static_cast<int>(events.size()), timeout, nullptr);
      for (int i = 0; i < n; ++i) {
        const epoll_event& e = events[static_cast<size_t>(i)];
        if (e.data.fd == stop_fd_) return;
        if (e.data.fd == listen_fd_) {
          Accept();
          continue;
        }
        TConn* c = Get(e.data.fd);
        if (c == nullptr) continue;
        if ((e.events & EPOLLOUT) != 0 && !Flush(*c)) continue;
        if ((e.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) OnReadable(*c);
      }
      if (!timers_.empty()) RunTimers(MonotonicClock::ReadNow());
    }
  }

 private:
  TConn* Get(int fd) {
    auto i = static_cast<size_t>(fd);
    return i < conns_.size() && conns_[i] && conns_[i]->fd == fd ? conns_[i].get() : nullptr;
  }

  void Accept() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto i = static_cast<size_t>(fd);
      if (conns_.size() <= i) conns_.resize(i + 1);
      if (!conns_[i]) conns_[i] = std::make_unique<TConn>();
      TConn& c = *conns_[i];
      uint64_t gen = c.generation + 1;
      c = TConn{};
      c.fd = fd;
      c.generation = gen;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    }
  }

  void Close(TConn& c) {
    if (c.ws != nullptr && c.ws->mode() == WsEndpoint::Mode::kBroadcast) {
      std::erase(broadcast_, c.fd);
    }
    c.ws.reset();
    close(c.fd);
    c.fd = -1;
    c.in.clear();
    c.out.clear();
    c.out_sent = 0;
    c.delayed.clear();
  }

  void OnReadable(TConn& c) {
    for (;;) {
      ssize_t n = read(c.fd, buf_.data(), buf_.size());
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        Close(c);
        return;
      }
      if (n < 0) return;
      std::string_view data(buf_.data(), static_cast<size_t>(n));
      if (c.ws != nullptr) {
        if (!OnWs(c, data)) return;
        if (static_cast<size_t>(n) < buf_.size()) return;
        continue;
      }
      if (!c.in.empty()) {
        c.in.append(data);
        data = c.in;
      }
      size_t used = HandleRequests(c, data);
      if (c.fd < 0) return;
      if (c.ws != nullptr) {  // upgraded: what follows the request head are frames
        std::string rest(data.substr(used));
        c.in.clear();
        if (!Flush(c)) return;
        if (!rest.empty() && !OnWs(c, rest)) return;
        continue;
      }
      if (used < data.size()) {
        std::string rest(data.substr(used));
        c.in = std::move(rest);
      } else {
        c.in.clear();
      }
      if (!Flush(c)) return;
      if (static_cast<size_t>(n) < buf_.size()) return;
    }
  }

  // Handles every complete request at the front of `data`; returns bytes consumed.
  size_t HandleRequests(TConn& c, std::string_view data) {
    size_t used = 0;
    while (used < data.size()) {
      if (c.close_after_flush && c.skip_body == 0) return data.size();  // nothing after "close"
      if (c.skip_body > 0) {
        size_t n = std::min<size_t>(static_cast<size_t>(c.skip_body), data.size() - used);
        c.skip_body -= static_cast<int64_t>(n);
        used += n;
        continue;
      }
      http1::RequestHead h = http1::ParseRequestHead(data.substr(used));
      if (h.state == http1::RequestHead::State::kIncomplete) break;
      if (h.state == http1::RequestHead::State::kError || h.chunked) {
        Respond(c,
                MakeResponse(400, "Bad Request",
                             h.chunked ? "chunked request bodies are not supported\n" : h.error + "\n", false, true),
                true);
        return data.size();
      }
      bool head = h.method == "HEAD";
      std::string_view target = h.target;
      bool close_conn = !h.keep_alive;
      if (target == "/metrics") {
        // The target's own counters in Prometheus's text format, for `monitor: scrape:`
        // (and a Prometheus) to read; this endpoint's requests are not counted.
        used += h.head_bytes;
        c.skip_body = h.content_length;
        Respond(c, MakeResponse(200, "OK", MetricsText(), head, close_conn, "text/plain; version=0.0.4"), close_conn);
        if (close_conn) return data.size();
        continue;
      }
      counters_[index_].CountRequest();
      if (auto mode = WsEndpointFor(target)) {
        used += h.head_bytes;
        if (!http1::IEquals(h.upgrade, "websocket") || h.ws_key.empty() || h.method != "GET") {
          Respond(c, MakeResponse(426, "Upgrade Required", "this is a WebSocket endpoint\n", head, close_conn),
                  close_conn);
          if (close_conn) return data.size();
          c.skip_body = h.content_length;
          continue;
        }
        c.out += WsUpgradeResponse(h.ws_key, h.ws_protocols);
        c.ws = std::make_unique<WsEndpoint>(*mode);
        if (*mode == WsEndpoint::Mode::kBroadcast) broadcast_.push_back(c.fd);
        return used;
      }
      if (IsDemoPath(h.method, target)) {
        std::string_view body;
        if (DemoNeedsBody(target)) {
          if (h.content_length > kMaxDemoBody) {
            // Discard the body rather than close on a client still sending it (which
            // would reset the connection before it reads the 413).
            used += h.head_bytes;
            c.skip_body = h.content_length;
            Respond(c, MakeResponse(413, "Content Too Large", "request body over 1 MiB\n", head, close_conn),
                    close_conn);
            continue;
          }
          // Wait for the whole body: the request stays buffered in c.in until it is here.
          if (data.size() - used - h.head_bytes < static_cast<size_t>(h.content_length)) break;
          body = data.substr(used + h.head_bytes, static_cast<size_t>(h.content_length));
          used += static_cast<size_t>(h.content_length);
        } else {
          c.skip_body = h.content_length;
        }
        used += h.head_bytes;
        timespec wall{};
        clock_gettime(CLOCK_REALTIME, &wall);
        DemoResponse d = HandleDemo(h.method, target, h.authorization, h.content_type, body,
                                    static_cast<int64_t>(wall.tv_sec) * 1000 + wall.tv_nsec / 1000000);
        Respond(c, MakeResponse(d.status, Reason(d.status), d.body, head, close_conn, d.content_type), close_conn);
        if (close_conn) return data.size();
        continue;
      }
      used += h.head_bytes;
      c.skip_body = h.content_length;
      if (target.starts_with("/status/")) {
        int code = std::atoi(std::string(target.substr(8, 3)).c_str());
        if (code < 100 || code > 599) code = 400;
        Respond(c, MakeResponse(code, Reason(code), code == 204 || code == 304 ? "" : "status\n", head, close_conn),
                close_conn);
      } else if (o_.error_rate > 0 && std::bernoulli_distribution(o_.error_rate)(rng_)) {
        Respond(c, close_conn || head ? MakeResponse(500, "Internal Server Error", "error\n", head, close_conn) : err_,
                close_conn);
      } else {
        Respond(c, close_conn || head ? MakeResponse(200, "OK", body_, head, close_conn) : ok_, close_conn);
      }
      if (close_conn) return data.size();
    }
    return used;
  }

  // Frames from a WebSocket client; returns false when the connection was closed.
  bool OnWs(TConn& c, std::string_view data) {
    std::string fanout;
    bool keep = c.ws->Feed(data, &c.out, &fanout);
    if (!keep) c.close_after_flush = true;
    if (!fanout.empty()) {
      // Every member of the room on this thread, the sender included; a member whose
      // send fails is closed by Flush (so iterate over a copy).
      std::vector<int> members = broadcast_;
      for (int fd : members) {
        TConn* m = Get(fd);
        if (m == nullptr || m == &c) continue;
        m->out += fanout;
        Flush(*m);
      }
      c.out += fanout;
    }
    return Flush(c);
  }

  void Respond(TConn& c, const std::string& bytes, bool close_after) {
    if (o_.latency.none() && o_.stall.none() && o_.workers == 0 && c.delayed.empty()) {
      c.out += bytes;
      c.close_after_flush |= close_after;
      return;
    }
    Nanos now = MonotonicClock::ReadNow();
    Nanos service = static_cast<Nanos>(static_cast<double>(o_.latency.Sample(rng_)) * o_.slowdown);
    Nanos due = now + service;
    if (o_.workers > 0) {
      // An M/M/c-like server: the request waits for the first of `workers` to be free, so
      // capacity is workers / E[service] per thread, and beyond it queues grow.
      if (worker_free_.empty()) worker_free_.assign(static_cast<size_t>(o_.workers), 0);
      auto w = std::min_element(worker_free_.begin(), worker_free_.end());
      due = std::max(now, *w) + service;
      *w = due;
    }
    due = epoch_ + o_.stall.Release(due - epoch_);
    if (!c.delayed.empty()) due = std::max(due, c.delayed.back().due);  // keep responses in order
    c.delayed.push_back({due, bytes, close_after});
    timers_.push({due, c.fd, c.generation});
  }

  void RunTimers(Nanos now) {
    while (!timers_.empty() && timers_.top().due <= now) {
      Timer t = timers_.top();
      timers_.pop();
      TConn* c = Get(t.fd);
      if (c == nullptr || c->generation != t.generation) continue;
      while (!c->delayed.empty() && c->delayed.front().due <= now) {
        c->out += c->delayed.front().bytes;
        c->close_after_flush |= c->delayed.front().close;
        c->delayed.pop_front();
      }
      Flush(*c);
    }
  }

  // Writes pending output; returns false when the connection was closed.
  bool Flush(TConn& c) {
    while (c.out_sent < c.out.size()) {
      ssize_t n = send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN) break;
        Close(c);
        return false;
      }
      c.out_sent += static_cast<size_t>(n);
    }
    if (c.out_sent == c.out.size()) {
      c.out.clear();
      c.out_sent = 0;
    }
    bool want_out = !c.out.empty();
    if (want_out != c.want_out) {
      c.want_out = want_out;
      epoll_event ev{};
      ev.events = EPOLLIN | (want_out ? EPOLLOUT : 0u);
      ev.data.fd = c.fd;
      epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    }
    // Close only once the request body is read too: closing on unread data resets the
    // connection before the client reads the response.
    if (c.out.empty() && c.close_after_flush && c.delayed.empty() && c.skip_body == 0) {
      Close(c);
      return false;
    }
    return true;
  }

  const TargetOptions& o_;
  int listen_fd_;
  int stop_fd_;  // an eventfd: readable when the server must stop
  Nanos epoch_;
  std::string MetricsText() const {
    uint64_t requests = 0;
    for (int i = 0; i < o_.threads; ++i) requests += counters_[i].requests.load(std::memory_order_relaxed);
    return fmt::format(
        "# HELP target_http_requests_total Requests the built-in target answered (/metrics not counted).\n"
        "# TYPE target_http_requests_total counter\n"
        "target_http_requests_total {}\n"
        "# HELP target_threads The target's server threads.\n"
        "# TYPE target_threads gauge\n"
        "target_threads {}\n",
        requests, o_.threads);
  }

  int ep_ = -1;
  std::mt19937_64 rng_;
  std::vector<Nanos> worker_free_;  // --workers: when each simulated worker is free again
  std::vector<char> buf_;
  std::string body_, ok_, err_;
  std::vector<std::unique_ptr<TConn>> conns_;
  std::vector<int> broadcast_;  // fds of /ws/broadcast clients on this thread
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  ThreadCounters* counters_;  // every thread's, this one's at index_
  int index_;
};

}  // namespace

Status RunTarget(const TargetOptions& o, const std::atomic<bool>& stop,
                 const std::function<void(uint16_t)>& on_listening) {
  auto ep = Resolve(o.host, o.port);
  if (!ep.ok()) return ep.error();
  std::vector<int> fds;
  auto first = ListenTcp(*ep);
  if (!first.ok()) return first.error();
  fds.push_back(*first);
  uint16_t port = BoundPort(*first);
  // Further threads listen on the port the first one got (which matters for port 0).
  Endpoint same = *ep;
  if (same.addr.ss_family == AF_INET)
    reinterpret_cast<sockaddr_in*>(&same.addr)->sin_port = htons(port);
  else
    reinterpret_cast<sockaddr_in6*>(&same.addr)->sin6_port = htons(port);
  for (int i = 1; i < o.threads; ++i) {
    auto fd = ListenTcp(same);
    if (!fd.ok()) {
      for (int f : fds) close(f);
      return fd.error();
    }
    fds.push_back(*fd);
  }
  Nanos epoch = MonotonicClock::ReadNow();
  int stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  std::unique_ptr<ThreadCounters[]> counters(new ThreadCounters[static_cast<size_t>(o.threads)]);
  std::vector<std::unique_ptr<TargetThread>> workers;
  for (int i = 0; i < o.threads; ++i) {
    workers.push_back(std::make_unique<TargetThread>(o, fds[static_cast<size_t>(i)], stop_fd, epoch,
                                                     o.seed + static_cast<uint64_t>(i), counters.get(), i));
  }
  if (on_listening) on_listening(port);
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w] { w->Run(); });
  // The stop flag is set from a signal handler; this thread watches it so the servers
  // can block without a timeout, then wakes them all through the eventfd.
  // mmap'd blocks, so that RSS grows by exactly what --leak says (malloc would add a page
  // of bookkeeping to every block).
  double leaked_mb = 0;
  while (!stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (o.leak_mb_per_min > 0) {
      double want = o.leak_mb_per_min * static_cast<double>(MonotonicClock::ReadNow() - epoch) / 60e9;
      if (o.leak_cap_mb > 0) want = std::min(want, o.leak_cap_mb);
      while (leaked_mb + 0.25 <= want) {  // quarter-MiB blocks, written so that they are resident
        void* block = mmap(nullptr, 1 << 18, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (block == MAP_FAILED) break;
        std::memset(block, 0x5a, 1 << 18);
        leaked_mb += 0.25;
      }
    }
  }
  uint64_t one = 1;
  (void)!write(stop_fd, &one, sizeof one);
  for (auto& t : threads) t.join();
  close(stop_fd);
  for (int f : fds) close(f);
  return Status::Ok();
}

}  // namespace loadcell
