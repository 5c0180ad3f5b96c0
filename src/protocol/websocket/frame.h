// RFC 6455 framing, for both ends: the client (loadcell's `ws` step) masks what it sends
// and expects unmasked frames; the built-in target's endpoints do the opposite.
//
// MessageParser is incremental and owns no socket: bytes go in with Append(), complete
// messages (fragments reassembled) and control frames come out of Next(). It enforces the
// protocol rules a peer can break (reserved bits, unknown opcodes, fragmented or long
// control frames, continuation order, masking direction, UTF-8 in text, size limits) and
// says which close code the other side should get.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace loadcell::ws {

enum class Opcode : uint8_t { kContinuation = 0, kText = 1, kBinary = 2, kClose = 8, kPing = 9, kPong = 10 };

// Close codes (RFC 6455 section 7.4.1).
constexpr uint16_t kCloseNormal = 1000;
constexpr uint16_t kCloseGoingAway = 1001;
constexpr uint16_t kCloseProtocolError = 1002;
constexpr uint16_t kCloseInvalidData = 1007;
constexpr uint16_t kCloseTooBig = 1009;

struct Limits {
  size_t max_frame = 16u << 20;    // payload bytes of one frame
  size_t max_message = 16u << 20;  // bytes of a reassembled message
};

// Appends one frame. `mask` (4 bytes) is required from a client, null from a server.
void EncodeFrame(std::string* out, Opcode op, std::string_view payload, bool fin, const uint8_t* mask);
// A close frame with a status code and reason (reason cut to fit a control frame).
void EncodeClose(std::string* out, uint16_t code, std::string_view reason, const uint8_t* mask);

bool IsValidUtf8(std::string_view s);

class MessageParser {
 public:
  enum class Status { kMessage, kNeedMore, kError };
  struct Message {
    Opcode opcode = Opcode::kText;  // kText, kBinary, kClose, kPing or kPong
    std::string_view data;          // valid until the next Append() or Next()
  };

  // `masked`: frames must be masked (a server reading a client) or must not be.
  MessageParser(bool masked, Limits limits) : masked_(masked), limits_(limits) {}

  void Append(std::string_view bytes);
  Status Next(Message* out);
  // After kError: what went wrong and the close code to send.
  const std::string& error() const { return error_; }
  uint16_t error_code() const { return error_code_; }
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  Status Fail(uint16_t code, std::string text);

  bool masked_;
  Limits limits_;
  std::string buf_;  // received bytes; frames are parsed from pos_
  size_t pos_ = 0;
  std::string message_;  // fragments of a data message so far
  std::string control_;  // the last control frame's payload (unmasked)
  Opcode message_op_ = Opcode::kText;
  bool in_message_ = false;
  bool failed_ = false;
  std::string error_;
  uint16_t error_code_ = 0;
};

// The status code and reason of a close frame's payload (1005 "no status" when empty).
struct CloseInfo {
  uint16_t code = 1005;
  std::string_view reason;
  bool valid = true;
};
CloseInfo ParseClosePayload(std::string_view payload);

}  // namespace loadcell::ws
