// Target URLs: http://host[:port]/path?query and https://... (IPv6 as [::1]); ws:// and
// wss:// for WebSocket sessions (same shape, TLS for wss).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace loadcell {

struct Url {
  std::string scheme;  // "http", "https", "ws" or "wss"
  std::string host;    // without brackets for IPv6
  uint16_t port = 0;
  std::string path;  // origin-form: "/path?query", at least "/"
  bool tls() const { return scheme == "https" || scheme == "wss"; }
  bool websocket() const { return scheme == "ws" || scheme == "wss"; }
  // Host header value: host, bracketed for IPv6, with the port when not the default.
  std::string HostHeader() const;
};

Result<Url> ParseUrl(std::string_view text);

// RFC 3986 percent-encoding of everything but the unreserved characters (A-Z a-z 0-9 - _ . ~):
// a query parameter's name or value, a form field.
std::string PercentEncode(std::string_view s);

}  // namespace loadcell
