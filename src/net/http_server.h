// The HTTP/1.1 server behind `serve`, the live dashboard, the Prometheus endpoint and the
// proxy's control API: routes matched by method and a path pattern, handlers that fill a
// Response. It runs on Debian's libmicrohttpd (event-driven, a few threads), so a slow
// client holds a socket and a little memory, never a thread; and it bounds what a client
// can cost before any handler runs:
//  - a body above `max_body_bytes` is refused whatever its encoding: by its Content-Length
//    before it is read, a chunked one as soon as it passes the limit (a 413 once the client
//    has sent it all, or the connection closed if it keeps sending twice the limit);
//  - the gate (authentication) sees the request line and headers before any body is read;
//  - a client must deliver each request whole within `request_timeout_s` and may stay idle
//    at most `idle_timeout_s`; each client address holds at most
//    `max_connections_per_client` connections, everyone together `max_connections`.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace loadcell::http {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;                // "GET", "POST", … (a HEAD is routed as GET)
  std::string path;                  // decoded, without the query
  std::vector<std::string> matches;  // [0] the path, [1…] the pattern's groups
  Fields headers;
  Fields params;  // query parameters, decoded
  std::string body;

  // Header names compare without case; "" when absent.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  bool HasParam(std::string_view name) const;
  std::string Param(std::string_view name) const;
};

// What a streamed body's producer answers each time it is asked for more.
enum class StreamStep {
  kData,  // appended something to *out
  kWait,  // nothing yet: asked again after Server::Wake() (or within a second)
  kEnd,   // done (after what it appended, if anything)
};
using StreamProducer = std::function<StreamStep(std::string* out)>;

struct Response {
  int status = 200;
  std::string body;
  std::string content_type;
  Fields headers;
  StreamProducer stream;  // set: the body is produced as it comes (chunked)

  void SetContent(std::string content, std::string type) {
    body = std::move(content);
    content_type = std::move(type);
  }
  void SetHeader(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
  // A body without an end known in advance, e.g. server-sent events.
  void Stream(std::string type, StreamProducer producer) {
    content_type = std::move(type);
    stream = std::move(producer);
  }
};

using Handler = std::function<void(const Request&, Response&)>;
// Sees the request before its body is read; true when it answered (the route does not run).
using Gate = std::function<bool(const Request&, Response&)>;
// Turns an exception from a handler into an answer.
using ExceptionHandler = std::function<void(const Request&, Response&, std::exception_ptr)>;

class Server {
 public:
  struct Limits {
    size_t max_body_bytes = 1 << 20;
    unsigned max_connections = 512;
    unsigned max_connections_per_client = 64;
    unsigned request_timeout_s = 30;  // to deliver a request's headers and body
    unsigned idle_timeout_s = 60;     // without a byte either way
    unsigned threads = 2;
  };

  explicit Server(Limits limits);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // `pattern` is an ECMAScript regular expression the whole path must match.
  void Get(const std::string& pattern, Handler handler);
  void Post(const std::string& pattern, Handler handler);
  void Put(const std::string& pattern, Handler handler);
  void Delete(const std::string& pattern, Handler handler);
  void SetGate(Gate gate);
  // Fills the body of an error answer (status >= 400) that has none: the server's own
  // (404 no route, 405 wrong method, 413 too large) and the handlers'.
  void SetErrorBody(Handler fill);
  void SetExceptionHandler(ExceptionHandler handler);
  // Headers every answer carries.
  void SetDefaultHeaders(Fields headers);

  // Binds HOST:PORT (port 0: any free one) and starts serving; routes are fixed from here.
  Status Listen(const std::string& host, int port);
  int port() const;
  // Streams that answered kWait are asked again.
  void Wake();
  // Ends every stream, closes every connection, and returns when no handler runs.
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace loadcell::http
