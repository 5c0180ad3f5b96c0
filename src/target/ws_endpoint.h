// The built-in target's WebSocket endpoints, as protocol logic without sockets:
//   /ws/echo       every text or binary message comes straight back
//   /ws/broadcast  every message goes to every client of /ws/broadcast on the same
//                  target thread (the sender included), like a chat room or a live feed
//   /ws/bad-frame  answers the first message with a frame that breaks RFC 6455 (reserved
//                  bits set), for testing how clients cope
// Pings are answered with pongs, a close with a close (the code echoed).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "protocol/websocket/frame.h"

namespace loadcell {

class WsEndpoint {
 public:
  enum class Mode { kEcho, kBroadcast, kBadFrame };
  explicit WsEndpoint(Mode mode) : mode_(mode), parser_(true, ws::Limits{}) {}

  Mode mode() const { return mode_; }
  // Feeds bytes from the client. Frames for this client are appended to `reply`, frames
  // for every broadcast member to `broadcast`. Returns false when the connection is to
  // be closed once `reply` is flushed.
  bool Feed(std::string_view in, std::string* reply, std::string* broadcast);

 private:
  Mode mode_;
  ws::MessageParser parser_;
  bool closed_ = false;
};

// The endpoint a request path names (query ignored), if it is one of the above.
std::optional<WsEndpoint::Mode> WsEndpointFor(std::string_view target);

// The 101 answer to a client's upgrade with `key`; the first offered subprotocol is chosen.
std::string WsUpgradeResponse(std::string_view key, std::string_view offered_protocols);

}  // namespace loadcell
