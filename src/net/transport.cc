#include "net/transport.h"

#include <sys/epoll.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "net/local_limits.h"

namespace loadcell {

Result<TlsContext*> TlsContext::Create(bool verify, const std::vector<std::string>& alpn) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return Error::Io("cannot create TLS context");
  if (!alpn.empty()) {
    std::string wire;
    for (const std::string& p : alpn) {
      wire.push_back(static_cast<char>(p.size()));
      wire += p;
    }
    SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size()));
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Buffers are released between records: at 10,000 connections that is the difference
  // between ~34 KiB and a few hundred bytes of TLS state per idle connection.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      SSL_CTX_free(ctx);
      return Error::Io("cannot load the system's CA certificates");
    }
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  return new TlsContext(ctx, verify);
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

SSL* TlsContext::NewSession(int fd, const std::string& server_name) const {
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) return nullptr;
  SSL_set_fd(ssl, fd);
  bool is_ip =
      server_name.find(':') != std::string::npos || server_name.find_first_not_of("0123456789.") == std::string::npos;
  if (!is_ip) SSL_set_tlsext_host_name(ssl, server_name.c_str());  // SNI takes names only
  if (verify_) {
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name.c_str());
    } else {
      SSL_set1_host(ssl, server_name.c_str());
    }
  }
  SSL_set_connect_state(ssl);
  return ssl;
}

std::string Transport::AlpnSelected() const {
  if (ssl_ == nullptr) return "";
  const unsigned char* p = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl_, &p, &len);
  return p == nullptr ? "" : std::string(reinterpret_cast<const char*>(p), len);
}

IoResult Transport::Open(const Endpoint& to, Poller& poller, IoHandler* handler) {
  IoResult r = Connect(to);
  if (r.status != IoStatus::kOk && r.status != IoStatus::kWantWrite) return r;
  interest_ = EPOLLOUT;
  if (!poller.Add(fd_, EPOLLOUT, handler).ok()) return {IoStatus::kError, 0};
  return {IoStatus::kWantWrite, 0};
}

IoResult Transport::Connected(const TlsContext* tls, const std::string* server_name) {
  if (FinishConnect().status != IoStatus::kOk) return {IoStatus::kError, 0};
  if (server_name == nullptr) return {IoStatus::kOk, 0};
  SSL* ssl = tls == nullptr ? nullptr : tls->NewSession(fd_, *server_name);
  if (ssl == nullptr) return {IoStatus::kTlsError, 0};
  StartTls(ssl);
  return {IoStatus::kOk, 0};
}

IoResult Transport::StepTls(Poller& poller, IoHandler* handler) {
  IoResult r = Handshake();
  if (r.status == IoStatus::kWantRead) Watch(poller, handler, EPOLLIN);
  if (r.status == IoStatus::kWantWrite) Watch(poller, handler, EPOLLOUT);
  return r;
}

void Transport::Watch(Poller& poller, IoHandler* handler, uint32_t events) {
  if (events == interest_ || fd_ < 0) return;
  interest_ = events;
  (void)poller.Modify(fd_, events, handler);
}

IoResult Transport::Connect(const Endpoint& to) {
  Close();
  local_limit_ = false;
  fd_ = socket(to.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    local_limit_ = NoteLocalFailure(errno);
    return {IoStatus::kError, 0};
  }
  CountOpenSocket(1);
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd_, reinterpret_cast<const sockaddr*>(&to.addr), to.len) == 0) return {IoStatus::kOk, 0};
  if (errno == EINPROGRESS) return {IoStatus::kWantWrite, 0};
  if (errno == ECONNREFUSED) return {IoStatus::kReset, 0};
  local_limit_ = NoteLocalFailure(errno);
  return {IoStatus::kError, 0};
}

IoResult Transport::FinishConnect() {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return {IoStatus::kError, 0};
  return {IoStatus::kOk, 0};
}

IoResult Transport::TlsResult(int rc) {
  switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_READ: return {IoStatus::kWantRead, 0};
    case SSL_ERROR_WANT_WRITE: return {IoStatus::kWantWrite, 0};
    case SSL_ERROR_ZERO_RETURN: return {IoStatus::kEof, 0};
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      if (errno == ECONNRESET || errno == EPIPE) return {IoStatus::kReset, 0};
      return {rc == 0 ? IoStatus::kEof : IoStatus::kError, 0};
    default:
      verify_result_ = static_cast<int>(SSL_get_verify_result(ssl_));
      ERR_clear_error();
      return {IoStatus::kTlsError, 0};
  }
}

IoResult Transport::Handshake() {
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) return {IoStatus::kOk, 0};
  IoResult r = TlsResult(rc);
  // A peer that closes or resets during the handshake failed TLS, whatever errno says.
  if (r.status == IoStatus::kEof || r.status == IoStatus::kReset || r.status == IoStatus::kError) {
    r.status = IoStatus::kTlsError;
  }
  return r;
}

IoResult Transport::Read(char* buf, size_t len) {
  if (ssl_ != nullptr) {
    size_t n = 0;
    int rc = SSL_read_ex(ssl_, buf, len, &n);
    if (rc == 1) return {IoStatus::kOk, n};
    return TlsResult(rc);
  }
  ssize_t n = read(fd_, buf, len);
  if (n > 0) return {IoStatus::kOk, static_cast<size_t>(n)};
  if (n == 0) return {IoStatus::kEof, 0};
  if (errno == EAGAIN || errno == EINTR) return {IoStatus::kWantRead, 0};
  if (errno == ECONNRESET) return {IoStatus::kReset, 0};
  return {IoStatus::kError, 0};
}

IoStatus Transport::WriteFrom(const char* data, size_t size, size_t* sent) {
  while (*sent < size) {
    IoResult r = Write(data + *sent, size - *sent);
    if (r.status != IoStatus::kOk) return r.status;
    *sent += r.bytes;
  }
  return IoStatus::kOk;
}

IoResult Transport::Write(const char* buf, size_t len) {
  if (ssl_ != nullptr) {
    size_t n = 0;
    int rc = SSL_write_ex(ssl_, buf, len, &n);
    if (rc == 1) return {IoStatus::kOk, n};
    return TlsResult(rc);
  }
  ssize_t n = send(fd_, buf, len, MSG_NOSIGNAL);
  if (n >= 0) return {IoStatus::kOk, static_cast<size_t>(n)};
  if (errno == EAGAIN || errno == EINTR) return {IoStatus::kWantWrite, 0};
  if (errno == ECONNRESET || errno == EPIPE) return {IoStatus::kReset, 0};
  return {IoStatus::kError, 0};
}

void Transport::Close() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
    CountOpenSocket(-1);
  }
  interest_ = 0;
}

std::string Transport::TlsErrorText() const {
  if (verify_result_ != X509_V_OK) return X509_verify_cert_error_string(verify_result_);
  return "TLS handshake failed";
}

}  // namespace loadcell
