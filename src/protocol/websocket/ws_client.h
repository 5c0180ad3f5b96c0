// One WebSocket connection as a client, on a worker's event loop: non-blocking connect,
// TLS for wss://, the upgrade handshake, then messages both ways, answering pings and
// closing with the close handshake. It knows nothing of test steps: the owner (the `ws`
// step runner) drives it through Open/Send/Close and hears back through WsClientHandler.
//
// Threading and lifetime: owned by one worker thread. Handler callbacks run inside
// OnIo(); OnClosed is the last call, after which the client touches nothing, so the
// owner may schedule its destruction from there (not delete it during the callback:
// the worker frees it after the event batch).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "net/poller.h"
#include "net/resolver.h"
#include "net/transport.h"
#include "protocol/failure.h"
#include "protocol/websocket/frame.h"

namespace loadcell::ws {

// How a session ended: normally (a close handshake with 1000/1001, either side starting it),
// aborted by its owner, or failed — connect, tls, handshake, protocol (invalid frames: we
// closed with 1002/1007/1009), reset (broken without a close frame), server_closed (the
// server closed with another code).
struct End {
  std::optional<Failure> failure;  // none: a normal end, or aborted
  bool aborted = false;            // Abort() from the owner
  uint16_t code = 0;               // close code received (or sent, for a protocol failure)
  std::string message;             // what happened, with the server's words where it gave some
  int status = 0;                  // HTTP status of the handshake answer (101 when upgraded)
};

class WsClientHandler {
 public:
  virtual void OnOpen(Nanos now) = 0;
  virtual void OnMessage(Opcode op, std::string_view data, Nanos now) = 0;
  virtual void OnClosed(const End& end, Nanos now) = 0;
  // Bytes moved on the wire (for data_sent / data_received).
  virtual void OnBytes(int64_t sent, int64_t received) = 0;

 protected:
  ~WsClientHandler() = default;
};

class WsClient final : public IoHandler {
 public:
  // `buf` is the worker's shared read buffer; `tls` may be null for ws://.
  WsClient(Poller& poller, const TlsContext* tls, std::vector<char>& buf, WsClientHandler& handler, Limits limits)
      : poller_(poller), tls_(tls), buf_(buf), handler_(handler), parser_(false, limits) {}
  ~WsClient() { transport_.Close(); }
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Connects to `to` and sends `request` (the compiled upgrade request with `key`).
  // `server_name` is the TLS SNI/certificate name when `use_tls`.
  void Open(const Endpoint& to, bool use_tls, const std::string& server_name, std::string request, std::string key,
            const std::vector<std::string>* subprotocols);
  // A data message; `mask` is the 4-byte masking key (RFC 6455 5.3). `fragment` > 0
  // splits it into frames of at most that many bytes (each with its own key, derived).
  void Send(Opcode op, std::string_view payload, const uint8_t* mask, size_t fragment = 0);
  // Starts the close handshake; OnClosed follows when the server answers (or call Abort).
  void Close(uint16_t code, std::string_view reason, const uint8_t* mask);
  // Closes the socket now; OnClosed(kAborted) is called unless `quiet`.
  void Abort(std::string message, bool quiet, Nanos now);

  bool open() const { return state_ == State::kOpen; }
  bool closing() const { return state_ == State::kClosing; }
  bool ended() const { return state_ == State::kEnded; }
  int status() const { return status_; }

  void OnIo(uint32_t events, Nanos now) override;

 private:
  enum class State { kIdle, kConnecting, kTls, kHandshake, kOpen, kClosing, kEnded };
  void StartHandshake(Nanos now);
  void Flush(Nanos now);
  void OnReadable(Nanos now);
  bool Consume(std::string_view data, Nanos now);  // false when the session ended
  void End(std::optional<Failure> failure, std::string message, uint16_t code, Nanos now, bool aborted = false);
  void SetInterest(uint32_t events);

  Poller& poller_;
  const TlsContext* tls_;
  std::vector<char>& buf_;
  WsClientHandler& handler_;
  MessageParser parser_;
  Transport transport_;
  State state_ = State::kIdle;
  bool use_tls_ = false;
  std::string server_name_;
  std::string key_;
  const std::vector<std::string>* subprotocols_ = nullptr;
  std::string out_;
  size_t out_sent_ = 0;
  std::string head_;  // handshake answer so far
  int status_ = 0;
  uint8_t pong_mask_[4] = {0x5a, 0xa5, 0x3c, 0xc3};  // masks for pongs and error closes
};

}  // namespace loadcell::ws
