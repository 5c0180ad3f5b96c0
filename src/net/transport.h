// A connected byte stream: a non-blocking TCP socket, optionally wrapped in TLS.
//
// Deliberately not a virtual interface: the plain path is one branch away from a raw
// read()/write(), which matters at hundreds of thousands of requests per second.
// Owned by one connection on one worker thread.
#pragma once

#include <openssl/ssl.h>
#include <sys/epoll.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "net/poller.h"
#include "net/resolver.h"

namespace loadcell {

enum class IoStatus { kOk, kWantRead, kWantWrite, kEof, kReset, kError, kTlsError };

struct IoResult {
  IoStatus status = IoStatus::kOk;
  size_t bytes = 0;
};

// Shared, read-only after construction: creates the per-connection TLS state.
class TlsContext {
 public:
  // `alpn`: protocols to offer, e.g. {"h2"} (empty: no ALPN, HTTP/1.1 assumed).
  static Result<TlsContext*> Create(bool verify, const std::vector<std::string>& alpn = {});  // owned by the caller
  ~TlsContext();
  SSL* NewSession(int fd, const std::string& server_name) const;

 private:
  explicit TlsContext(SSL_CTX* ctx, bool verify) : ctx_(ctx), verify_(verify) {}
  SSL_CTX* ctx_;
  bool verify_;
};

class Transport {
 public:
  Transport() = default;
  ~Transport() { Close(); }
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // The steps every protocol's client connection (HTTP/1.1, HTTP/2, WebSocket) takes to be
  // up, on the worker's poller; the protocol's own state machine sits on top of them.
  //
  // Connects and watches the socket for the connect's end (EPOLLOUT, for `handler`):
  // kWantWrite, or an error at once (refused, or local_limit(): out of descriptors or ports).
  IoResult Open(const Endpoint& to, Poller& poller, IoHandler* handler);
  // Once the socket is writable: kOk when TCP is up and, given a `server_name`, TLS started
  // (go on with StepTls); kError when the connect failed; kTlsError when TLS cannot start
  // (no context, or a session that cannot be made).
  IoResult Connected(const TlsContext* tls, const std::string* server_name);
  // One step of the TLS handshake: kOk when done; kWantRead/kWantWrite, the poller now
  // waits for that; else it failed.
  IoResult StepTls(Poller& poller, IoHandler* handler);
  // What the poller waits for on this socket (a call that changes nothing costs nothing).
  void Watch(Poller& poller, IoHandler* handler, uint32_t events);

  // Reads what has arrived into `buf`, a chunk at a time, each to `take` (false: stop, the
  // connection ended or has what it waited for). How reading stopped: kOk (`take` stopped
  // it: touch nothing of the connection after, it may be gone), kWantRead (nothing more
  // for now), kWantWrite (TLS must write first: the poller now waits for both), or the
  // connection's end (kEof, kReset, kError, kTlsError).
  template <class Take>
  IoStatus ReadAll(std::vector<char>& buf, Poller& poller, IoHandler* handler, Take&& take) {
    for (;;) {
      IoResult r = Read(buf.data(), buf.size());
      if (r.status == IoStatus::kOk) {
        if (!take(std::string_view(buf.data(), r.bytes))) return IoStatus::kOk;
        // A short read drained a plain socket; TLS may still hold decrypted bytes.
        if (ssl_ == nullptr && r.bytes < buf.size()) return IoStatus::kWantRead;
        continue;
      }
      if (r.status == IoStatus::kWantWrite) Watch(poller, handler, EPOLLIN | EPOLLOUT);
      return r.status;
    }
  }

  // Starts a non-blocking connect; kWantWrite while in progress.
  IoResult Connect(const Endpoint& to);
  // The last Connect failed for lack of a local resource (descriptors, ephemeral ports):
  // the generator's limit, not the target's (net/local_limits.h).
  bool local_limit() const { return local_limit_; }
  // After the socket became writable: did the connect succeed?
  IoResult FinishConnect();
  // TLS only: advance the handshake. kOk when done.
  IoResult Handshake();
  void StartTls(SSL* ssl) { ssl_ = ssl; }

  IoResult Read(char* buf, size_t len);
  IoResult Write(const char* buf, size_t len);
  // Writes data[*sent..size) while the socket takes it, advancing *sent. The status is kOk
  // when all of it went out, kWantWrite/kWantRead when the rest must wait, else the error.
  IoStatus WriteFrom(const char* data, size_t size, size_t* sent);
  void Close();

  int fd() const { return fd_; }
  bool tls() const { return ssl_ != nullptr; }
  // Last OpenSSL verification/handshake error, for messages.
  std::string TlsErrorText() const;
  // The protocol the server chose by ALPN ("" when none).
  std::string AlpnSelected() const;

 private:
  IoResult TlsResult(int rc);
  // Ordered for size: every connection has one.
  int fd_ = -1;
  uint32_t interest_ = 0;  // what the poller waits for (Open, Watch)
  SSL* ssl_ = nullptr;
  int verify_result_ = X509_V_OK;
  bool local_limit_ = false;
};

}  // namespace loadcell
