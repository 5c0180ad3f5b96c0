#include "protocol/websocket/frame.h"

#include <cstring>

#include <fmt/format.h>

namespace loadcell::ws {
namespace {

void Mask(char* data, size_t n, const uint8_t* key, size_t offset = 0) {
  for (size_t i = 0; i < n; ++i) data[i] = static_cast<char>(static_cast<uint8_t>(data[i]) ^ key[(i + offset) & 3]);
}

bool IsControl(Opcode op) { return static_cast<uint8_t>(op) >= 8; }

}  // namespace

void EncodeFrame(std::string* out, Opcode op, std::string_view payload, bool fin, const uint8_t* mask) {
  const size_t n = payload.size();
  out->push_back(static_cast<char>((fin ? 0x80 : 0x00) | static_cast<uint8_t>(op)));
  const uint8_t mask_bit = mask != nullptr ? 0x80 : 0x00;
  if (n < 126) {
    out->push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xFFFF) {
    out->push_back(static_cast<char>(mask_bit | 126));
    out->push_back(static_cast<char>(n >> 8));
    out->push_back(static_cast<char>(n & 0xFF));
  } else {
    out->push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out->push_back(static_cast<char>((static_cast<uint64_t>(n) >> shift) & 0xFF));
  }
  if (mask != nullptr) out->append(reinterpret_cast<const char*>(mask), 4);
  size_t at = out->size();
  out->append(payload);
  if (mask != nullptr) Mask(out->data() + at, n, mask);
}

void EncodeClose(std::string* out, uint16_t code, std::string_view reason, const uint8_t* mask) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, 123));
  EncodeFrame(out, Opcode::kClose, payload, true, mask);
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

CloseInfo ParseClosePayload(std::string_view payload) {
  CloseInfo info;
  if (payload.empty()) return info;
  if (payload.size() == 1) {
    info.valid = false;
    return info;
  }
  info.code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) | static_cast<uint8_t>(payload[1]));
  info.reason = payload.substr(2);
  // Codes a peer may send (7.4.1/7.4.2): 1000-1003, 1007-1014, 3000-4999.
  bool code_ok = (info.code >= 1000 && info.code <= 1003) || (info.code >= 1007 && info.code <= 1014) ||
                 (info.code >= 3000 && info.code <= 4999);
  info.valid = code_ok && IsValidUtf8(info.reason);
  return info;
}

void MessageParser::Append(std::string_view bytes) {
  // Drop what earlier frames consumed before growing the buffer (views handed out by
  // Next() are invalid from here on, as documented).
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

MessageParser::Status MessageParser::Fail(uint16_t code, std::string text) {
  failed_ = true;
  error_code_ = code;
  error_ = std::move(text);
  return Status::kError;
}

MessageParser::Status MessageParser::Next(Message* out) {
  if (failed_) return Status::kError;
  for (;;) {
    const size_t avail = buf_.size() - pos_;
    if (avail < 2) return Status::kNeedMore;
    const auto* p = reinterpret_cast<const uint8_t*>(buf_.data() + pos_);
    const bool fin = (p[0] & 0x80) != 0;
    if ((p[0] & 0x70) != 0) return Fail(kCloseProtocolError, "reserved bits set without an extension");
    const auto op = static_cast<Opcode>(p[0] & 0x0F);
    switch (op) {
      case Opcode::kContinuation:
      case Opcode::kText:
      case Opcode::kBinary:
      case Opcode::kClose:
      case Opcode::kPing:
      case Opcode::kPong: break;
      default: return Fail(kCloseProtocolError, fmt::format("unknown opcode {}", static_cast<int>(p[0] & 0x0F)));
    }
    const bool has_mask = (p[1] & 0x80) != 0;
    if (has_mask != masked_) {
      return Fail(kCloseProtocolError, masked_ ? "a client frame without a mask" : "a server frame with a mask");
    }
    uint64_t len = p[1] & 0x7F;
    size_t head = 2;
    if (len == 126) {
      if (avail < 4) return Status::kNeedMore;
      len = (static_cast<uint64_t>(p[2]) << 8) | p[3];
      head = 4;
    } else if (len == 127) {
      if (avail < 10) return Status::kNeedMore;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
      if ((len >> 63) != 0) return Fail(kCloseProtocolError, "frame length with the most significant bit set");
      head = 10;
    }
    if (IsControl(op)) {
      if (!fin) return Fail(kCloseProtocolError, "fragmented control frame");
      if (len > 125) return Fail(kCloseProtocolError, "control frame payload over 125 bytes");
    } else if (len > limits_.max_frame) {
      return Fail(kCloseTooBig, fmt::format("frame of {} bytes over the limit of {}", len, limits_.max_frame));
    }
    const size_t mask_at = head;
    if (has_mask) head += 4;
    if (avail < head + len) return Status::kNeedMore;
    char* payload = buf_.data() + pos_ + head;
    const auto n = static_cast<size_t>(len);
    if (has_mask) Mask(payload, n, p + mask_at);
    pos_ += head + n;
    std::string_view data(payload, n);

    if (IsControl(op)) {
      if (op == Opcode::kClose) {
        CloseInfo ci = ParseClosePayload(data);
        if (!ci.valid) return Fail(kCloseProtocolError, "invalid close frame payload");
      }
      out->opcode = op;
      out->data = data;
      return Status::kMessage;
    }
    if (op == Opcode::kContinuation) {
      if (!in_message_) return Fail(kCloseProtocolError, "continuation frame without a message to continue");
    } else {
      if (in_message_) return Fail(kCloseProtocolError, "new message before the previous one's final fragment");
      message_op_ = op;
      if (fin) {  // the common case: an unfragmented message, handed out without a copy
        if (op == Opcode::kText && !IsValidUtf8(data))
          return Fail(kCloseInvalidData, "text message is not valid UTF-8");
        if (n > limits_.max_message) {
          return Fail(kCloseTooBig, fmt::format("message of {} bytes over the limit of {}", n, limits_.max_message));
        }
        out->opcode = op;
        out->data = data;
        return Status::kMessage;
      }
      in_message_ = true;
      message_.clear();
    }
    if (message_.size() + n > limits_.max_message) {
      return Fail(kCloseTooBig, fmt::format("message over the limit of {} bytes", limits_.max_message));
    }
    message_.append(data);
    if (!fin) continue;
    in_message_ = false;
    if (message_op_ == Opcode::kText && !IsValidUtf8(message_)) {
      return Fail(kCloseInvalidData, "text message is not valid UTF-8");
    }
    out->opcode = message_op_;
    out->data = message_;
    return Status::kMessage;
  }
}

}  // namespace loadcell::ws
