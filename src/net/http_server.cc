#include "net/http_server.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "net/listen.h"
#include "net/resolver.h"

namespace loadcell::http {
namespace {

using Clock = std::chrono::steady_clock;

const std::string* Find(const Fields& fields, std::string_view name, bool any_case) {
  for (const auto& [k, v] : fields) {
    bool same = any_case ? (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) : k == name;
    if (same) return &v;
  }
  return nullptr;
}

MHD_Result Collect(void* cls, MHD_ValueKind, const char* key, const char* value) {
  static_cast<Fields*>(cls)->emplace_back(key, value == nullptr ? "" : value);
  return MHD_YES;
}

}  // namespace

std::string Request::Header(std::string_view name) const {
  const std::string* v = Find(headers, name, true);
  return v == nullptr ? std::string() : *v;
}
bool Request::HasHeader(std::string_view name) const { return Find(headers, name, true) != nullptr; }
bool Request::HasParam(std::string_view name) const { return Find(params, name, false) != nullptr; }
std::string Request::Param(std::string_view name) const {
  const std::string* v = Find(params, name, false);
  return v == nullptr ? std::string() : *v;
}

namespace {

struct Route {
  std::string method;
  std::regex pattern;
  Handler handler;
};

// A connection as the deadline watch sees it: by `deadline` the client must have delivered
// the request it is sending (or, between requests, begun and finished the next one).
struct Tracked {
  int fd = -1;
  Clock::time_point deadline = Clock::time_point::max();
  bool cut = false;
};

}  // namespace

// One request, from its headers to the end of its answer.
struct Exchange {
  Server::Impl* server = nullptr;
  MHD_Connection* connection = nullptr;
  Tracked* tracked = nullptr;
  Request request;
  const Route* route = nullptr;
  bool answered = false;   // a response is queued
  bool too_large = false;  // the body passed the limit: what follows is read and dropped
  size_t dropped = 0;
  // A streamed answer.
  StreamProducer stream;
  std::string pending;
  size_t sent = 0;
  bool ended = false;
};

struct Server::Impl {
  Limits limits;
  std::vector<Route> routes;
  Gate gate;
  Handler error_body;
  ExceptionHandler on_exception;
  Fields default_headers;
  MHD_Daemon* daemon = nullptr;
  int port = 0;

  std::mutex mu;  // guards what follows; a stream's producer runs under it
  std::set<Tracked*> connections;
  std::set<Exchange*> waiting;  // suspended streams
  bool stopping = false;
  std::condition_variable tick;
  std::thread watch;

  // The request line and headers are in: the gate, the route, a declared length.
  MHD_Result Begin(Exchange* ex, const char* url, const char* method);
  MHD_Result Answer(Exchange* ex, Response& res);
  void Run(Exchange* ex, Response& res);
  void Watch();
  void ResumeWaiting();  // with mu held
};

namespace {

MHD_Result OnRequest(void* cls, MHD_Connection* connection, const char* url, const char* method, const char*,
                     const char* upload_data, size_t* upload_data_size, void** con_cls) {
  auto* impl = static_cast<Server::Impl*>(cls);
  auto* ex = static_cast<Exchange*>(*con_cls);
  if (ex == nullptr) {
    ex = new Exchange;
    ex->server = impl;
    ex->connection = connection;
    *con_cls = ex;
    return impl->Begin(ex, url, method);
  }
  if (*upload_data_size > 0) {
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    if (ex->answered) return MHD_YES;
    if (!ex->too_large && ex->request.body.size() + n <= impl->limits.max_body_bytes) {
      ex->request.body.append(upload_data, n);
      return MHD_YES;
    }
    if (!ex->too_large) {
      ex->too_large = true;
      std::string().swap(ex->request.body);
    }
    // Read and dropped so that the client gets its 413; a client that keeps sending is cut.
    ex->dropped += n;
    return ex->dropped > impl->limits.max_body_bytes ? MHD_NO : MHD_YES;
  }
  if (ex->answered) return MHD_YES;
  {
    std::lock_guard<std::mutex> lock(impl->mu);
    if (ex->tracked != nullptr) ex->tracked->deadline = Clock::time_point::max();  // in: now it is ours to answer
  }
  Response res;
  if (ex->too_large) {
    res.status = 413;
  } else {
    impl->Run(ex, res);
  }
  return impl->Answer(ex, res);
}

void OnCompleted(void* cls, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
  auto* impl = static_cast<Server::Impl*>(cls);
  auto* ex = static_cast<Exchange*>(*con_cls);
  if (ex == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(impl->mu);
    impl->waiting.erase(ex);
    if (ex->tracked != nullptr && impl->connections.count(ex->tracked) > 0)
      ex->tracked->deadline = Clock::now() + std::chrono::seconds(impl->limits.request_timeout_s);
  }
  delete ex;
  *con_cls = nullptr;
}

void OnConnection(void* cls, MHD_Connection* connection, void** socket_context, MHD_ConnectionNotificationCode code) {
  auto* impl = static_cast<Server::Impl*>(cls);
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    auto* t = new Tracked;
    const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    t->fd = info == nullptr ? -1 : info->connect_fd;
    t->deadline = Clock::now() + std::chrono::seconds(impl->limits.request_timeout_s);
    std::lock_guard<std::mutex> lock(impl->mu);
    impl->connections.insert(t);
    *socket_context = t;
    return;
  }
  auto* t = static_cast<Tracked*>(*socket_context);
  if (t == nullptr) return;
  {
    // MHD closes the socket after this returns: the watch, which shuts sockets down under
    // the same lock, never touches a descriptor that was closed (and perhaps reused).
    std::lock_guard<std::mutex> lock(impl->mu);
    impl->connections.erase(t);
  }
  delete t;
  *socket_context = nullptr;
}

ssize_t ReadStream(void* cls, uint64_t, char* buf, size_t max) {
  auto* ex = static_cast<Exchange*>(cls);
  Server::Impl* impl = ex->server;
  while (true) {
    if (ex->sent < ex->pending.size()) {
      size_t n = std::min(max, ex->pending.size() - ex->sent);
      std::memcpy(buf, ex->pending.data() + ex->sent, n);
      ex->sent += n;
      return static_cast<ssize_t>(n);
    }
    if (ex->ended) return MHD_CONTENT_READER_END_OF_STREAM;
    ex->pending.clear();
    ex->sent = 0;
    std::lock_guard<std::mutex> lock(impl->mu);
    if (impl->stopping) return MHD_CONTENT_READER_END_OF_STREAM;
    StreamStep step = ex->stream(&ex->pending);
    if (step == StreamStep::kEnd) ex->ended = true;
    if (step == StreamStep::kWait && ex->pending.empty()) {
      // Parked until Wake() or the watch's next second: no thread waits for it.
      impl->waiting.insert(ex);
      MHD_suspend_connection(ex->connection);
      return 0;
    }
  }
}

}  // namespace

MHD_Result Server::Impl::Begin(Exchange* ex, const char* url, const char* method) {
  Request& req = ex->request;
  req.method = method;
  req.path = url;
  MHD_get_connection_values(ex->connection, MHD_HEADER_KIND, &Collect, &req.headers);
  MHD_get_connection_values(ex->connection, MHD_GET_ARGUMENT_KIND, &Collect, &req.params);
  const MHD_ConnectionInfo* info = MHD_get_connection_info(ex->connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  if (info != nullptr) ex->tracked = static_cast<Tracked*>(info->socket_context);

  Response res;
  if (gate && gate(req, res)) return Answer(ex, res);
  const std::string want = req.method == "HEAD" ? "GET" : req.method;
  bool path_known = false;
  std::smatch m;
  for (const Route& r : routes) {
    if (!std::regex_match(req.path, m, r.pattern)) continue;
    path_known = true;
    if (r.method != want) continue;
    ex->route = &r;
    req.matches.assign(m.begin(), m.end());
    break;
  }
  if (ex->route == nullptr) {
    res.status = path_known ? 405 : 404;
    return Answer(ex, res);
  }
  // A declared length over the limit is refused before a byte of the body is read.
  std::string length = req.Header("Content-Length");
  if (!length.empty()) {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), n);
    if (ec != std::errc() || n > limits.max_body_bytes) {
      res.status = 413;
      return Answer(ex, res);
    }
  }
  return MHD_YES;
}

void Server::Impl::Run(Exchange* ex, Response& res) {
  try {
    ex->route->handler(ex->request, res);
  } catch (...) {
    res = Response();
    if (on_exception) {
      on_exception(ex->request, res, std::current_exception());
    } else {
      res.status = 500;
    }
  }
}

MHD_Result Server::Impl::Answer(Exchange* ex, Response& res) {
  ex->answered = true;
  if (res.status >= 400 && res.body.empty() && !res.stream && error_body) error_body(ex->request, res);
  MHD_Response* r = nullptr;
  if (res.stream) {
    ex->stream = std::move(res.stream);
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, &ReadStream, ex, nullptr);
  } else {
    r = MHD_create_response_from_buffer(res.body.size(), res.body.data(), MHD_RESPMEM_MUST_COPY);
  }
  if (r == nullptr) return MHD_NO;
  for (const auto& [k, v] : default_headers) MHD_add_response_header(r, k.c_str(), v.c_str());
  for (const auto& [k, v] : res.headers) MHD_add_response_header(r, k.c_str(), v.c_str());
  if (!res.content_type.empty()) MHD_add_response_header(r, "Content-Type", res.content_type.c_str());
  MHD_Result queued = MHD_queue_response(ex->connection, static_cast<unsigned>(res.status), r);
  MHD_destroy_response(r);
  return queued;
}

void Server::Impl::ResumeWaiting() {
  for (Exchange* ex : waiting) MHD_resume_connection(ex->connection);
  waiting.clear();
}

void Server::Impl::Watch() {
  std::unique_lock<std::mutex> lock(mu);
  while (!stopping) {
    tick.wait_for(lock, std::chrono::milliseconds(500));
    if (stopping) break;
    Clock::time_point now = Clock::now();
    for (Tracked* t : connections) {
      if (t->cut || t->fd < 0 || t->deadline > now) continue;
      // Too slow to deliver its request: MHD sees the end of the stream and closes it.
      shutdown(t->fd, SHUT_RDWR);
      t->cut = true;
    }
    ResumeWaiting();  // streams send their keep-alives
  }
}

Server::Server(Limits limits) : impl_(std::make_unique<Impl>()) { impl_->limits = limits; }

Server::~Server() { Stop(); }

void Server::Get(const std::string& pattern, Handler handler) {
  impl_->routes.push_back({"GET", std::regex(pattern), std::move(handler)});
}
void Server::Post(const std::string& pattern, Handler handler) {
  impl_->routes.push_back({"POST", std::regex(pattern), std::move(handler)});
}
void Server::Put(const std::string& pattern, Handler handler) {
  impl_->routes.push_back({"PUT", std::regex(pattern), std::move(handler)});
}
void Server::Delete(const std::string& pattern, Handler handler) {
  impl_->routes.push_back({"DELETE", std::regex(pattern), std::move(handler)});
}
void Server::SetGate(Gate gate) { impl_->gate = std::move(gate); }
void Server::SetErrorBody(Handler fill) { impl_->error_body = std::move(fill); }
void Server::SetExceptionHandler(ExceptionHandler handler) { impl_->on_exception = std::move(handler); }
void Server::SetDefaultHeaders(Fields headers) { impl_->default_headers = std::move(headers); }
int Server::port() const { return impl_->port; }

Status Server::Listen(const std::string& host, int port) {
  auto ep = Resolve(host, static_cast<uint16_t>(port));
  if (!ep.ok()) return ep.error();
  // Not ListenTcp: without SO_REUSEPORT a second server on the same port is an error.
  int fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::Io(fmt::format("socket: {}", std::strerror(errno)));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&ep->addr), ep->len) != 0 || listen(fd, 1024) != 0) {
    std::string msg = std::strerror(errno);
    close(fd);
    return Error::Io(fmt::format("cannot listen on {}: {}", ep->ToString(), msg));
  }
  impl_->port = BoundPort(fd);
  Impl* impl = impl_.get();
  impl->daemon =
      MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, nullptr, nullptr,
                       &OnRequest, impl, MHD_OPTION_LISTEN_SOCKET, fd,                                          //
                       MHD_OPTION_THREAD_POOL_SIZE, static_cast<unsigned>(std::max(1u, impl->limits.threads)),  //
                       MHD_OPTION_CONNECTION_LIMIT, impl->limits.max_connections,                               //
                       MHD_OPTION_PER_IP_CONNECTION_LIMIT, impl->limits.max_connections_per_client,             //
                       MHD_OPTION_CONNECTION_TIMEOUT, impl->limits.idle_timeout_s,                              //
                       MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<size_t>(64 * 1024),                      //
                       MHD_OPTION_NOTIFY_COMPLETED, &OnCompleted, impl,                                         //
                       MHD_OPTION_NOTIFY_CONNECTION, &OnConnection, impl,                                       //
                       MHD_OPTION_END);
  if (impl->daemon == nullptr) {
    close(fd);
    return Error::Io(fmt::format("cannot serve HTTP on {}", ep->ToString()));
  }
  impl->watch = std::thread([impl] { impl->Watch(); });
  return Status::Ok();
}

void Server::Wake() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->ResumeWaiting();
}

void Server::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
    // MHD must not be stopped with connections suspended: resumed, each stream then ends.
    impl_->ResumeWaiting();
  }
  impl_->tick.notify_all();
  if (impl_->watch.joinable()) impl_->watch.join();
  if (impl_->daemon != nullptr) {
    MHD_stop_daemon(impl_->daemon);  // closes the listening socket too
    impl_->daemon = nullptr;
  }
}

}  // namespace loadcell::http
