// One HTTP/1.1 client connection with its socket: non-blocking connect, TLS, the request
// written as the socket takes it, the response parsed as it arrives, kept alive for the
// next request (one at a time). The counterpart of h2::H2Client; what a request means
// (its timeout, faults, metrics, what comes next) stays with the owner.
//
// A request sent on a kept-alive connection that turns out closed before any response
// byte (the server timed it out while idle) is resent once on a new connection, as
// browsers and Go's client do, and is not a failure.
//
// Threading: one worker thread. The owner registers nothing itself: the client adds its
// socket to the poller with the owner's events object as its IoHandler, whose OnIo passes
// the events to OnIo() (after any check of its own). Callbacks run inside Send(), OnIo()
// and Resume(); after OnResponse or OnFailed the client is idle and may be sent to again
// from inside the callback, so it touches nothing of itself after calling one.
//
// Size matters: a `quick -c 10000` is 10,000 of these, so what every connection of a
// worker shares (poller, TLS context, read buffer) is one pointer, and the target one more.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "net/poller.h"
#include "net/resolver.h"
#include "net/transport.h"
#include "protocol/failure.h"
#include "protocol/http1/response_parser.h"

namespace loadcell::http1 {

// The owner: told what happens, and the IoHandler the client's socket is registered with.
class H1ClientEvents : public IoHandler {
 public:
  virtual void OnResponse(Nanos now) = 0;  // complete: parser() has it
  virtual void OnFailed(Failure failure, Nanos now) = 0;
  virtual void OnBytes(int64_t sent, int64_t received) = 0;
  virtual void OnConnect() = 0;  // a connection is being opened (a new one, or a resend's)
  // Bytes the client may read now (a bandwidth limit); 0 pauses reading until Resume().
  virtual size_t ReadAllowance(Nanos now) = 0;

 protected:
  ~H1ClientEvents() = default;
};

// Where a request goes. `origin` names the endpoint: a kept-alive connection is reused
// only by a request to the same origin. The client keeps a pointer to the target: it must
// outlive the request (and a connection opened to it).
struct H1Target {
  int origin = -1;
  bool tls = false;
  const Endpoint* endpoint = nullptr;
  const std::string* server_name = nullptr;  // SNI and certificate name (TLS)
};

// What every connection of one worker shares; outlives them.
struct H1Env {
  Poller* poller = nullptr;
  const TlsContext* tls = nullptr;   // null: no TLS
  std::vector<char>* buf = nullptr;  // the worker's read buffer
};

// k6's request phases, as this connection saw them (0: the phase did not happen, as on
// a reused connection).
struct H1Timings {
  Nanos connect = 0, connected = 0, secured = 0;  // connect started, TCP up, TLS done
  Nanos sent = 0, written = 0, first_byte = 0;    // first byte written, last written, first read
};

class H1Client {
 public:
  enum class Phase : uint8_t { kIdle, kConnecting, kHandshaking, kWriting, kReading, kPaused };

  H1Client(const H1Env& env, H1ClientEvents& events) : env_(&env), events_(&events) {}
  ~H1Client() { transport_.Close(); }
  H1Client(const H1Client&) = delete;
  H1Client& operator=(const H1Client&) = delete;

  // Sends `request` (the whole message, not copied: it must stay valid until the request
  // ends — a compiled static request lives as long as the plan) and reads its response;
  // `observer` (may be null) sees the response's headers and body.
  void Send(const H1Target& to, std::string_view request, bool head, ResponseObserver* observer, Nanos now);
  // Opens a connection to `to` ahead of any request (quick -R connects before the start,
  // as wrk2 does); it stays idle, kept alive, for the next Send. A failure is reported
  // through OnFailed like any other.
  void Open(const H1Target& to, Nanos now);
  void OnIo(uint32_t events, Nanos now);
  void Resume(Nanos now);  // reading was paused by a ReadAllowance of 0
  // Drops the connection (and any request on it) without a callback.
  void Close();
  // The same with an RST, as a reset by the network would end it.
  void Reset();

  Phase phase() const { return phase_; }
  bool busy() const { return phase_ != Phase::kIdle; }
  bool connected() const { return transport_.fd() >= 0; }
  const ResponseParser& parser() const { return parser_; }
  const H1Timings& timings() const { return timings_; }

 private:
  void Connect(Nanos now);
  void Write(Nanos now);
  void OnReadable(Nanos now);
  void Done(Nanos now);
  void Fail(Failure failure, Nanos now);
  void SetInterest(uint32_t events);

  const H1Env* env_;
  H1ClientEvents* events_;
  Transport transport_;
  ResponseParser parser_;
  const H1Target* to_ = nullptr;
  std::string_view out_;
  size_t written_ = 0;
  ResponseObserver* observer_ = nullptr;
  int origin_ = -1;  // what `transport_` is connected to
  Phase phase_ = Phase::kIdle;
  bool head_ = false;
  bool reused_ = false;  // the request went out on a kept-alive connection
  H1Timings timings_;
};

}  // namespace loadcell::http1
