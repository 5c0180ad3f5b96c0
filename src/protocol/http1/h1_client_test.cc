#include "protocol/http1/h1_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace loadcell::http1 {
namespace {

// A real server on 127.0.0.1: each accepted connection runs `serve(fd)`, one at a time.
class Server {
 public:
  explicit Server(std::function<void(int)> serve) : serve_(std::move(serve)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        ++accepted_;
        serve_(c);
        close(c);
      }
    });
  }
  ~Server() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

 private:
  std::function<void(int)> serve_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// Reads one request head (the tests send no bodies); false at EOF.
bool ReadRequest(int fd) {
  std::string got;
  char c;
  while (got.find("\r\n\r\n") == std::string::npos) {
    if (read(fd, &c, 1) != 1) return false;
    got += c;
  }
  return true;
}

void Answer(int fd, const std::string& text) {
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
const std::string kGet = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";

// The owner: passes the poller's events to the client and keeps what it was told.
struct Owner : H1ClientEvents {
  Poller poller;
  std::vector<char> buf = std::vector<char>(64 * 1024);
  H1Env env{&poller, nullptr, &buf};
  H1Client client{env, *this};
  Endpoint to;
  std::string host = "127.0.0.1";
  H1Target target{1, false, &to, &host};
  int responses = 0;
  std::optional<Failure> failure;
  int64_t sent = 0, received = 0;
  size_t allowance = SIZE_MAX;
  int pauses = 0;

  explicit Owner(uint16_t port) { to = *Resolve("127.0.0.1", port); }
  void OnIo(uint32_t events, Nanos now) override { client.OnIo(events, now); }
  void OnResponse(Nanos) override { ++responses; }
  void OnFailed(Failure f, Nanos) override { failure = f; }
  void OnBytes(int64_t s, int64_t r) override {
    sent += s;
    received += r;
  }
  int connects = 0;
  void OnConnect() override { ++connects; }
  size_t ReadAllowance(Nanos) override {
    if (allowance == 0) ++pauses;
    return allowance;
  }
  void Send() { client.Send(target, kGet, false, nullptr, MonotonicClock::ReadNow()); }
  // Runs the loop until the request ends (or the client pauses): no sleeps, a bound of 5 s.
  void Wait() {
    epoll_event ev[8];
    Nanos end = MonotonicClock::ReadNow() + 5 * kSecond;
    while (client.busy() && client.phase() != H1Client::Phase::kPaused && MonotonicClock::ReadNow() < end) {
      int n = poller.Wait(ev, 8, 100 * kMilli);
      for (int i = 0; i < n; ++i)
        static_cast<IoHandler*>(ev[i].data.ptr)->OnIo(ev[i].events, MonotonicClock::ReadNow());
    }
  }
};

TEST(H1Client, AnswersAndKeepsTheConnectionAlive) {
  Server server([](int fd) {
    while (ReadRequest(fd)) Answer(fd, kOk);
  });
  Owner o(server.port());
  o.Send();
  o.Wait();
  ASSERT_EQ(o.responses, 1);
  EXPECT_EQ(o.client.parser().status(), 200);
  EXPECT_GT(o.client.timings().connect, 0);
  EXPECT_GE(o.client.timings().first_byte, o.client.timings().written);
  o.Send();
  o.Wait();
  EXPECT_EQ(o.responses, 2);
  EXPECT_EQ(o.client.timings().connect, 0);  // reused: no connect phase
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(o.sent, 2 * static_cast<int64_t>(kGet.size()));
  EXPECT_EQ(o.received, 2 * static_cast<int64_t>(kOk.size()));
  EXPECT_FALSE(o.failure.has_value());
}

// The server closes a kept-alive connection after each answer (without saying so): the next
// request finds it closed before any response byte and goes out again on a new one.
TEST(H1Client, ResendsOnceWhenAKeptConnectionWasClosed) {
  Server server([](int fd) {
    if (ReadRequest(fd)) Answer(fd, kOk);
  });
  Owner o(server.port());
  for (int i = 0; i < 3; ++i) {
    o.Send();
    o.Wait();
  }
  EXPECT_EQ(o.responses, 3);
  EXPECT_FALSE(o.failure.has_value());
  EXPECT_EQ(server.accepted(), 3);
  EXPECT_EQ(o.connects, 3);
}

TEST(H1Client, ARefusedConnectIsAConnectFailure) {
  uint16_t port;
  {
    Server gone([](int) {});
    port = gone.port();
  }
  Owner o(port);
  o.Send();
  o.Wait();
  EXPECT_EQ(o.failure, Failure::kConnect);
  EXPECT_FALSE(o.client.connected());
}

TEST(H1Client, ABodyCutShortIsAProtocolFailure) {
  Server server([](int fd) {
    if (ReadRequest(fd)) Answer(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  });
  Owner o(server.port());
  o.Send();
  o.Wait();
  EXPECT_EQ(o.responses, 0);
  EXPECT_EQ(o.failure, Failure::kProtocol);
}

// A read allowance of 0 pauses the reading until Resume(); the response then completes.
TEST(H1Client, PausesWhenNoReadIsAllowedAndResumes) {
  Server server([](int fd) {
    while (ReadRequest(fd)) Answer(fd, kOk);
  });
  Owner o(server.port());
  o.allowance = 0;
  o.Send();
  o.Wait();
  EXPECT_EQ(o.client.phase(), H1Client::Phase::kPaused);
  EXPECT_EQ(o.responses, 0);
  EXPECT_GE(o.pauses, 1);
  o.allowance = 1;  // a byte at a time
  o.client.Resume(MonotonicClock::ReadNow());
  o.Wait();
  EXPECT_EQ(o.client.phase(), H1Client::Phase::kIdle);
  EXPECT_EQ(o.responses, 1);
}

}  // namespace
}  // namespace loadcell::http1
