// One HTTP/2 client connection with its socket: non-blocking connect, TLS with ALPN "h2"
// (or cleartext with prior knowledge), frames out as the socket takes them, frames in to
// the H2Connection. Shared by `quick --h2` (H2Worker) and `run`'s pooled HTTP/2
// connections; what a stream means, timeouts and reconnect policy stay with them.
//
// Threading: one worker thread. Callbacks run inside Connect(), OnIo() and Flush();
// OnDown is the last one of a connection's life (the client is reusable after it:
// Connect() again). Every stream still open when the connection goes down is reported
// through OnStreamDone with error_code kConnectionLost first.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "net/poller.h"
#include "net/resolver.h"
#include "net/transport.h"
#include "protocol/failure.h"
#include "protocol/http2/h2_connection.h"

namespace loadcell::h2 {

constexpr uint32_t kConnectionLost = 0x10000;  // not an HTTP/2 code: the socket went away

class H2Client;

class H2ClientEvents : public H2Events {
 public:
  virtual void OnReady(H2Client& client, Nanos now) = 0;
  // The connection ended: `failure` kNone when it ended cleanly (the server's GOAWAY and
  // no stream left), otherwise why; `was_ready` tells a failed connect from a lost link.
  virtual void OnDown(H2Client& client, std::optional<Failure> failure, bool was_ready, Nanos now) = 0;
  virtual void OnBytes(int64_t sent, int64_t received) = 0;

 protected:
  ~H2ClientEvents() = default;
};

class H2Client final : public IoHandler, public H2Events {
 public:
  H2Client(Poller& poller, const TlsContext* tls, std::vector<char>& buf, H2ClientEvents& events)
      : poller_(poller), tls_(tls), buf_(buf), events_(events) {}
  ~H2Client() { transport_.Close(); }
  H2Client(const H2Client&) = delete;
  H2Client& operator=(const H2Client&) = delete;

  void Connect(const Endpoint& to, const std::string& server_name, Nanos now);
  bool connecting() const { return state_ == State::kConnecting || state_ == State::kHandshaking; }
  bool ready() const { return state_ == State::kReady; }
  bool down() const { return state_ == State::kDown; }
  // Streams it can open now, at most `limit` at once (and the server's own limit).
  int Capacity(int limit) const;
  int active() const { return static_cast<int>(streams_.size()); }
  // Opens a stream (call Flush after a batch of them); false when the connection cannot.
  bool Submit(const H2Request& request, H2Stream* stream);
  void Cancel(H2Stream* stream) { h2_->Cancel(stream); }
  void Flush(Nanos now);
  // Closes at once without callbacks (end of the run).
  void Close();
  Nanos connect_started() const { return connect_started_; }
  // Why the connection last went down (valid in the kConnectionLost stream reports too).
  std::optional<Failure> last_failure() const { return failure_; }

  void OnIo(uint32_t events, Nanos now) override;

 private:
  enum class State { kDown, kConnecting, kHandshaking, kReady };
  void OnStreamDone(H2Stream* stream, uint32_t error_code, bool refused) override;
  void StepHandshake(Nanos now);
  void OnConnected(Nanos now);
  void OnReadable(Nanos now);
  void Down(std::optional<Failure> failure, Nanos now);
  void SetInterest(uint32_t events);

  Poller& poller_;
  const TlsContext* tls_;
  std::vector<char>& buf_;
  H2ClientEvents& events_;
  Transport transport_;
  std::unique_ptr<H2Connection> h2_;
  State state_ = State::kDown;
  std::string server_name_;
  std::string out_;
  size_t out_sent_ = 0;
  int64_t completed_ = 0;           // streams answered on this connection
  std::vector<H2Stream*> streams_;  // open streams (H2Stream::slot is the index)
  Nanos connect_started_ = 0;
  std::optional<Failure> failure_;
};

}  // namespace loadcell::h2
