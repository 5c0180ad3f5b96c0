// Runs a `ws` step for one VU: opens the WebSocket, plays its steps (send, receive, think,
// loop, close), closes with the close handshake and records k6's ws_* metrics:
//   ws_sessions (tagged status: 101 when upgraded), ws_connecting (connect to upgraded),
//   ws_session_duration (connect to closed), ws_msgs_sent, ws_msgs_received,
//   ws_msg_rtt (last send to the matching receive), and ws_session_failed (a rate: the
//   session could not open, broke, or a receive timed out), ws_errors{kind}.
//
// Messages that arrive while no `receive` waits are kept (up to 256 or 1 MiB, oldest
// dropped) so that "send; think; receive" sees the answer that came during the think.
// A receive that times out ends the session (the conversation is out of step after it).
//
// Injected faults (`faults:`): at the open, a blackhole loses the handshake (it fails as
// connect_timeout at its timeout), a reset fails the session as `reset`, a latency fault
// holds the connect (ws_connecting counts the hold). During the session, each `send` in a
// latency fault is held before it goes out (ws_msg_rtt counts from the start of the hold);
// in a blackhole a send is lost (counted as sent, never written) and a message that
// arrives is dropped; a reset, with its probability, resets the connection at a send and
// the session fails as `reset`.
#pragma once

#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/rng.h"
#include "engine/active_step.h"
#include "metrics/recorder.h"
#include "protocol/websocket/ws_client.h"
#include "scenario/definition.h"
#include "scenario/ws_builder.h"

namespace loadcell {

struct WsSessionEnv {
  Poller* poller = nullptr;
  const TlsContext* tls = nullptr;
  std::vector<char>* buf = nullptr;
  Recorder* rec = nullptr;
  const Endpoint* endpoint = nullptr;
  Nanos default_timeout = 10 * kSecond;
};

class WsSession final : public ActiveStep, public ws::WsClientHandler {
 public:
  // `tags`: the VU's tags plus name, group and the step's tags.
  WsSession(const WsStep& step, const WsBuilder& builder, const WsSessionEnv& env, StepOwner& owner, Tags tags,
            Xoshiro256& rng);
  ~WsSession() override;

  void Start(Nanos now) override;
  void OnTimer(Nanos now) override;
  void Abort(Nanos now) override;

 private:
  struct Frame {
    const WsActions* actions;
    size_t next;
    int64_t passes_left;
  };
  struct Pending {
    std::string data;
    Nanos at;
  };

  void OnOpen(Nanos now) override;
  void OnMessage(ws::Opcode op, std::string_view data, Nanos now) override;
  void OnClosed(const ws::End& end, Nanos now) override;
  void OnBytes(int64_t sent, int64_t received) override;

  void Run(Nanos now);         // plays steps until one waits
  bool TryReceive(Nanos now);  // the waiting receive matched a kept message
  void Finish(Nanos now);      // all steps played: close handshake
  void Fail(Failure failure, const std::string& message, Nanos now);
  void NextMask(uint8_t* mask);

  const WsStep& step_;
  const WsBuilder& builder_;
  WsSessionEnv env_;
  StepOwner& owner_;
  Tags tags_;
  TagKey key_;
  Xoshiro256& rng_;
  std::unique_ptr<ws::WsClient> client_;
  std::vector<Frame> stack_;
  std::deque<Pending> kept_;
  size_t kept_bytes_ = 0;
  Nanos started_ = 0;
  Nanos last_send_ = 0;
  void Open(Nanos now);  // connect and handshake, after any fault's hold
  // Faults at a send: false when the send must wait (a hold) or the session ended.
  bool FaultsAllowSend(Nanos now, bool* lost);

  enum class Wait { kNone, kOpen, kReceive, kThink, kClose, kHold } wait_ = Wait::kOpen;
  bool held_ = false;     // the send about to run was held already
  Nanos hold_start_ = 0;  // when that hold began (the send's time for ws_msg_rtt)
  Nanos open_at_ = 0;     // the end of the connect's hold
  std::string request_;   // the rendered handshake, kept while the open is held
  std::string key_b64_;
  std::string match_;   // the waiting receive's rendered match
  Nanos deadline_ = 0;  // of the open, receive or close we wait for
  bool failed_ = false;
  bool done_ = false;
};

}  // namespace loadcell
