// The opening handshake (RFC 6455 section 4): the client's upgrade request, compiled once
// per session from the step's URL, headers and subprotocols, and the check of the server's
// 101 answer. The server side's accept key is here too, for the built-in target.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "net/url.h"

namespace loadcell::ws {

// base64(SHA-1(key + the RFC's GUID)).
std::string AcceptKey(std::string_view client_key);
// A fresh Sec-WebSocket-Key: base64 of 16 bytes.
std::string MakeClientKey(uint64_t a, uint64_t b);

// The GET request with Upgrade, Connection, Sec-WebSocket-Key/Version and, when given,
// Sec-WebSocket-Protocol. Fails on header names or values that would break the framing.
Result<std::string> CompileUpgradeRequest(const Url& url,
                                          const std::vector<std::pair<std::string, std::string>>& headers,
                                          const std::vector<std::string>& subprotocols, std::string_view key);

struct HandshakeResponse {
  enum class State { kIncomplete, kComplete, kError };
  State state = State::kIncomplete;
  size_t head_bytes = 0;  // bytes after this are the first frames
  int status = 0;
  std::string reason;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string error;
};

// Parses the response head at the front of `buf` (at most 64 KiB).
HandshakeResponse ParseHandshakeResponse(std::string_view buf);

// Is this the 101 answer to our key, with a subprotocol we offered (if any)? The error
// names what the server did: "handshake refused: 403 Forbidden", "bad Sec-WebSocket-Accept".
Status CheckHandshake(const HandshakeResponse& r, std::string_view key, const std::vector<std::string>& subprotocols);

}  // namespace loadcell::ws
