// libFuzzer: the WebSocket message parser must never crash, over-read or hand out a
// message that breaks the rules it checks, whatever the peer sends and however reads
// split it. The first byte picks the split size and the masking direction.
#include <cstddef>
#include <cstdint>

#include "protocol/websocket/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t step = (data[0] % 31) + 1;
  bool masked = (data[0] & 0x80) != 0;
  const char* p = reinterpret_cast<const char*>(data + 1);
  size_t n = size - 1;
  loadcell::ws::Limits limits;
  limits.max_frame = 4096;
  limits.max_message = 8192;
  loadcell::ws::MessageParser parser(masked, limits);
  for (size_t pos = 0; pos < n; pos += step) {
    parser.Append(std::string_view(p + pos, std::min(step, n - pos)));
    loadcell::ws::MessageParser::Message m;
    for (;;) {
      auto st = parser.Next(&m);
      if (st == loadcell::ws::MessageParser::Status::kError) return 0;
      if (st == loadcell::ws::MessageParser::Status::kNeedMore) break;
      if (m.opcode == loadcell::ws::Opcode::kText && !loadcell::ws::IsValidUtf8(m.data)) __builtin_trap();
      if (m.data.size() > limits.max_message) __builtin_trap();
    }
  }
  return 0;
}
