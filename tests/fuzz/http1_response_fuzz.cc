// libFuzzer: the HTTP/1 response parser must never crash, hang or over-read, whatever the
// peer sends and however reads split it. The first byte picks the split size.
#include <cstddef>
#include <cstdint>

#include "protocol/http1/response_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t step = (data[0] % 17) + 1;
  bool head = (data[0] & 0x80) != 0;
  const char* p = reinterpret_cast<const char*>(data + 1);
  size_t n = size - 1;
  loadcell::http1::ResponseParser parser;
  parser.Reset(head);
  size_t pos = 0;
  // Parse back-to-back responses as a keep-alive connection would.
  while (pos < n) {
    size_t chunk = std::min(step, n - pos);
    size_t used = parser.Feed(p + pos, chunk);
    if (used > chunk) __builtin_trap();
    pos += used;
    if (parser.error() != loadcell::http1::ParseError::kNone) return 0;
    if (parser.done()) parser.Reset(head);
    else if (used == 0) __builtin_trap();  // no progress without a result would hang a connection
  }
  parser.OnEof();
  return 0;
}
