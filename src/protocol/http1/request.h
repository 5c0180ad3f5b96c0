// HTTP/1.1 requests: compiled once into immutable bytes before a run, and parsed back
// (by the same parser the built-in target uses) to prove the bytes are well formed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "net/url.h"

namespace loadcell::http1 {

struct RequestSpec {
  std::string method = "GET";
  Url url;
  std::vector<std::pair<std::string, std::string>> headers;  // user headers, in order
  std::string body;
};

// Serializes `spec` with Host, User-Agent and Content-Length added unless the user set
// them. Fails on header names or values that would break the framing (CR/LF, colons).
Result<std::string> CompileRequest(const RequestSpec& spec);

// "Name: value" from the command line.
Result<std::pair<std::string, std::string>> ParseHeaderArg(std::string_view text);

// The head of a request as a server sees it.
struct RequestHead {
  enum class State { kIncomplete, kComplete, kError };
  State state = State::kIncomplete;
  size_t head_bytes = 0;  // request line + headers + blank line
  std::string_view method;
  std::string_view target;
  int64_t content_length = 0;
  bool keep_alive = true;
  bool chunked = false;
  std::string_view authorization;  // the Authorization header's value, if any
  std::string_view content_type;
  std::string_view upgrade;  // WebSocket upgrades (the target's /ws/ endpoints)
  std::string_view ws_key;
  std::string_view ws_protocols;
  std::string error;
};

// Parses a request head at the front of `buf` (views point into `buf`). Up to 64 KiB.
RequestHead ParseRequestHead(std::string_view buf);

}  // namespace loadcell::http1
