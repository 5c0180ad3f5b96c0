#include "net/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace loadcell::http {
namespace {

// Sends `request` whole, then reads until the server closes (every request says close).
std::string Exchange(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "connect failed";
  }
  size_t off = 0;
  while (off < request.size()) {
    ssize_t n = send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  std::string answer;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) answer.append(buf, static_cast<size_t>(n));
  close(fd);
  return answer;
}

std::string Get(int port, const std::string& path, const std::string& method = "GET") {
  return Exchange(port, method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() : server_(Limits()) {}
  static Server::Limits Limits() {
    Server::Limits l;
    l.max_body_bytes = 1000;
    l.threads = 2;
    return l;
  }
  void Start() { ASSERT_TRUE(server_.Listen("127.0.0.1", 0).ok()); }
  Server server_;
};

TEST_F(HttpServerTest, RoutesByMethodAndPatternWithGroupsAndQuery) {
  server_.Get(R"(/items/(\d+))", [](const Request& req, Response& res) {
    res.SetContent("item " + req.matches[1] + " q=" + req.Param("q") + " h=" + req.Header("x-ONE"), "text/plain");
  });
  server_.Post("/items", [](const Request& req, Response& res) {
    res.status = 201;
    res.SetContent("got " + req.body, "text/plain");
  });
  server_.SetDefaultHeaders({{"X-Frame-Options", "DENY"}});
  Start();
  std::string a =
      Exchange(server_.port(), "GET /items/42?q=a%20b HTTP/1.1\r\nHost: x\r\nX-One: 1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(a.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_NE(a.find("\r\nX-Frame-Options: DENY\r\n"), std::string::npos);
  EXPECT_NE(a.find("\r\n\r\nitem 42 q=a b h=1"), std::string::npos) << a;
  a = Exchange(server_.port(),
               "POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  EXPECT_EQ(a.substr(0, 12), "HTTP/1.1 201");
  EXPECT_NE(a.find("got hello"), std::string::npos);
  // A HEAD is a GET without the body.
  a = Get(server_.port(), "/items/7", "HEAD");
  EXPECT_EQ(a.substr(0, 12), "HTTP/1.1 200");
  EXPECT_EQ(a.find("item 7"), std::string::npos);
  EXPECT_EQ(Get(server_.port(), "/items/x").substr(0, 12), "HTTP/1.1 404");
  EXPECT_EQ(Get(server_.port(), "/items", "GET").substr(0, 12), "HTTP/1.1 405");
}

TEST_F(HttpServerTest, ErrorsGetABodyAndExceptionsAnAnswer) {
  server_.Get("/boom", [](const Request&, Response&) { throw std::runtime_error("kaput"); });
  server_.SetErrorBody([](const Request& req, Response& res) {
    res.SetContent("error " + std::to_string(res.status) + " " + req.path, "text/plain");
  });
  server_.SetExceptionHandler([](const Request&, Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      res.status = 500;
      res.SetContent(std::string("caught ") + e.what(), "text/plain");
    }
  });
  Start();
  EXPECT_NE(Get(server_.port(), "/boom").find("\r\n\r\ncaught kaput"), std::string::npos);
  EXPECT_NE(Get(server_.port(), "/none").find("\r\n\r\nerror 404 /none"), std::string::npos);
}

TEST_F(HttpServerTest, TheGateAnswersBeforeTheBodyIsRead) {
  std::atomic<int> handled{0};
  server_.Post("/p", [&](const Request&, Response&) { ++handled; });
  server_.SetGate([](const Request& req, Response& res) {
    if (req.Header("Authorization") == "yes") return false;
    res.status = 401;
    return true;
  });
  Start();
  // The body is never sent: the answer comes on the headers alone.
  std::string a = Exchange(server_.port(), "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n");
  EXPECT_EQ(a.substr(0, 12), "HTTP/1.1 401");
  EXPECT_EQ(handled.load(), 0);
}

TEST_F(HttpServerTest, BodiesOverTheLimitAreRefusedInEveryEncoding) {
  std::atomic<int> handled{0};
  server_.Post("/p", [&](const Request& req, Response& res) {
    ++handled;
    res.SetContent(std::to_string(req.body.size()), "text/plain");
  });
  Start();
  // By its declared length, before reading it.
  EXPECT_EQ(Exchange(server_.port(), "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n").substr(0, 12),
            "HTTP/1.1 413");
  // Chunked: 600 + 600 bytes.
  std::string chunk = "258\r\n" + std::string(600, 'a') + "\r\n";
  std::string a = Exchange(server_.port(),
                           "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                           "Connection: close\r\n\r\n" +
                               chunk + chunk + "0\r\n\r\n");
  EXPECT_EQ(a.substr(0, 12), "HTTP/1.1 413");
  // At the limit, chunked: accepted whole.
  a = Exchange(server_.port(),
               "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunk +
                   "190\r\n" + std::string(400, 'b') + "\r\n0\r\n\r\n");
  EXPECT_NE(a.find("\r\n\r\n1000"), std::string::npos) << a;
  // Form-encoded bodies have the same limit, not a smaller one of their own.
  a = Exchange(server_.port(),
               "POST /p HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
               "Content-Length: 900\r\nConnection: close\r\n\r\n" +
                   std::string(900, 'c'));
  EXPECT_NE(a.find("\r\n\r\n900"), std::string::npos) << a;
  EXPECT_EQ(handled.load(), 2);
}

TEST_F(HttpServerTest, AStreamWaitsWithoutAThreadAndEndsOnStop) {
  std::atomic<int> version{0};
  std::atomic<int> asked{0};
  server_.Get("/events", [&](const Request&, Response& res) {
    auto seen = std::make_shared<int>(0);
    res.Stream("text/event-stream", [&version, &asked, seen](std::string* out) {
      ++asked;
      int v = version.load();
      if (v == *seen) return StreamStep::kWait;
      *seen = v;
      *out = "data: " + std::to_string(v) + "\n\n";
      return v >= 3 ? StreamStep::kEnd : StreamStep::kData;
    });
  });
  server_.Get("/ping", [](const Request&, Response& res) { res.SetContent("pong", "text/plain"); });
  Start();
  std::string answer;
  std::thread reader([&] { answer = Get(server_.port(), "/events"); });
  // While the stream waits, the one thread per event loop still serves everyone else.
  for (int i = 1; i <= 3; ++i) {
    EXPECT_NE(Get(server_.port(), "/ping").find("pong"), std::string::npos);
    version.store(i);
    server_.Wake();
  }
  reader.join();
  EXPECT_NE(answer.find("data: 3"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Transfer-Encoding: chunked"), std::string::npos) << answer;

  // A stream still waiting when the server stops is ended, not left hanging.
  version.store(0);
  asked.store(0);
  std::thread waiting([&] { answer = Get(server_.port(), "/events"); });
  while (asked.load() == 0) std::this_thread::yield();
  server_.Stop();
  waiting.join();
  EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 200");
}

TEST(HttpServer, APortInUseIsAnError) {
  Server a(Server::Limits{});
  ASSERT_TRUE(a.Listen("127.0.0.1", 0).ok());
  Server b(Server::Limits{});
  Status s = b.Listen("127.0.0.1", a.port());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("Address already in use"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace loadcell::http
