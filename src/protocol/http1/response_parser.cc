#include "protocol/http1/response_parser.h"

#include "protocol/http1/ascii.h"

#include <algorithm>
#include <cstring>

namespace loadcell::http1 {
namespace {

constexpr size_t kMaxChunkLine = 4096;

// True when a comma-separated header value contains `token` (case-insensitive).
bool HasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = TrimOws(value.substr(0, comma));
    if (IEquals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

const char* ParseErrorName(ParseError e) {
  switch (e) {
    case ParseError::kNone: return "none";
    case ParseError::kBadStatusLine: return "malformed status line";
    case ParseError::kBadHeader: return "malformed header";
    case ParseError::kHeaderTooLarge: return "header section larger than 64 KiB";
    case ParseError::kBadContentLength: return "invalid Content-Length";
    case ParseError::kBadChunk: return "invalid chunked encoding";
    case ParseError::kTruncated: return "connection closed before the response was complete";
  }
  return "unknown";
}

void ResponseParser::Reset(bool head_request, ResponseObserver* observer) {
  state_ = State::kStatusLine;
  error_ = ParseError::kNone;
  observer_ = observer;
  partial_.clear();
  head_request_ = head_request;
  started_ = false;
  http10_ = false;
  keep_alive_ = true;
  saw_connection_keep_alive_ = false;
  chunked_ = false;
  has_length_ = false;
  in_trailers_ = false;
  saw_chunk_cr_ = false;
  status_ = 0;
  content_length_ = 0;
  remaining_ = 0;
  body_bytes_ = 0;
  header_bytes_ = 0;
}

bool ResponseParser::TakeLine(const char*& p, const char* end, std::string_view* line) {
  const bool header_part = state_ == State::kStatusLine || state_ == State::kHeaders || state_ == State::kTrailers;
  const size_t limit = header_part ? kMaxHeaderBytes : kMaxChunkLine;
  const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
  size_t take = nl ? static_cast<size_t>(nl - p) + 1 : static_cast<size_t>(end - p);
  if (header_part) {
    header_bytes_ += static_cast<int64_t>(take);
    if (static_cast<size_t>(header_bytes_) > limit) {
      Fail(ParseError::kHeaderTooLarge);
      return false;
    }
  } else if (partial_.size() + take > limit) {
    Fail(ParseError::kBadChunk);
    return false;
  }
  if (!nl) {
    partial_.append(p, take);
    p = end;
    return false;
  }
  std::string_view l;
  if (partial_.empty()) {
    l = std::string_view(p, take - 1);
  } else {
    partial_.append(p, take - 1);
    l = partial_;
  }
  p += take;
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  *line = l;
  return true;
}

size_t ResponseParser::Feed(const char* data, size_t len) {
  const char* p = data;
  const char* end = data + len;
  if (len > 0) started_ = true;
  while (p < end && state_ != State::kDone && state_ != State::kError) {
    switch (state_) {
      case State::kStatusLine:
      case State::kHeaders:
      case State::kChunkSize:
      case State::kTrailers: {
        std::string_view line;
        if (!TakeLine(p, end, &line)) break;
        HandleLine(line);
        partial_.clear();
        break;
      }
      case State::kBodyLength:
      case State::kChunkData: {
        size_t n = static_cast<size_t>(std::min<int64_t>(remaining_, end - p));
        Body(p, n);
        p += n;
        remaining_ -= static_cast<int64_t>(n);
        if (remaining_ == 0) state_ = state_ == State::kBodyLength ? State::kDone : State::kChunkDataEnd;
        break;
      }
      case State::kChunkDataEnd: {
        // Exactly CRLF (or a bare LF) must follow chunk data.
        if (*p == '\r' && !saw_chunk_cr_) {
          saw_chunk_cr_ = true;
          ++p;
          break;
        }
        if (*p == '\n') {
          saw_chunk_cr_ = false;
          ++p;
          state_ = State::kChunkSize;
          break;
        }
        Fail(ParseError::kBadChunk);
        break;
      }
      case State::kBodyUntilClose:
        Body(p, static_cast<size_t>(end - p));
        p = end;
        break;
      case State::kDone:
      case State::kError: break;
    }
  }
  return static_cast<size_t>(p - data);
}

void ResponseParser::Body(const char* p, size_t n) {
  body_bytes_ += static_cast<int64_t>(n);
  if (observer_ && n > 0) observer_->OnBody(std::string_view(p, n));
}

void ResponseParser::HandleLine(std::string_view line) {
  switch (state_) {
    case State::kStatusLine: HandleStatusLine(line); break;
    case State::kHeaders: HandleHeaderLine(line); break;
    case State::kChunkSize: HandleChunkSizeLine(line); break;
    case State::kTrailers:
      if (line.empty()) {
        state_ = State::kDone;
      } else if (line.find(':') == std::string_view::npos) {
        Fail(ParseError::kBadChunk);
      }
      break;
    default: break;
  }
}

void ResponseParser::HandleStatusLine(std::string_view line) {
  // HTTP/1.x SP 3DIGIT [SP reason]
  if (line.size() < 12 || !line.starts_with("HTTP/1.") || (line[7] != '0' && line[7] != '1') || line[8] != ' ') {
    Fail(ParseError::kBadStatusLine);
    return;
  }
  int code = 0;
  for (int i = 9; i < 12; ++i) {
    if (std::isdigit(static_cast<unsigned char>(line[static_cast<size_t>(i)])) == 0) {
      Fail(ParseError::kBadStatusLine);
      return;
    }
    code = code * 10 + (line[static_cast<size_t>(i)] - '0');
  }
  if (code < 100 || (line.size() > 12 && line[12] != ' ')) {
    Fail(ParseError::kBadStatusLine);
    return;
  }
  status_ = code;
  http10_ = line[7] == '0';
  state_ = State::kHeaders;
}

void ResponseParser::HandleHeaderLine(std::string_view line) {
  if (line.empty()) {
    EndOfHeaders();
    return;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    Fail(ParseError::kBadHeader);
    return;
  }
  std::string_view name = line.substr(0, colon);
  for (char c : name) {
    // Also rejects obsolete line folding (a line starting with whitespace).
    if (!IsTokenChar(c)) {
      Fail(ParseError::kBadHeader);
      return;
    }
  }
  std::string_view value = TrimOws(line.substr(colon + 1));
  // Only three names matter for framing; their lengths tell them apart cheaply.
  const size_t n = name.size();
  if (status_ >= 200 && (n == 14 || n == 17 || n == 10)) {
    if (n == 14 && IEquals(name, "content-length")) {
      if (value.empty() || value.size() > 18) {
        Fail(ParseError::kBadContentLength);
        return;
      }
      int64_t n = 0;
      for (char c : value) {
        if (c < '0' || c > '9') {
          Fail(ParseError::kBadContentLength);
          return;
        }
        n = n * 10 + (c - '0');
      }
      if (has_length_ && n != content_length_) {
        Fail(ParseError::kBadContentLength);
        return;
      }
      has_length_ = true;
      content_length_ = n;
    } else if (n == 17 && IEquals(name, "transfer-encoding")) {
      // The final coding decides; anything but chunked is delimited by close (RFC 9112 6.3).
      size_t last = value.rfind(',');
      chunked_ = IEquals(TrimOws(last == std::string_view::npos ? value : value.substr(last + 1)), "chunked");
      if (!chunked_) has_length_ = false;
    } else if (n == 10 && IEquals(name, "connection")) {
      if (HasToken(value, "close")) keep_alive_ = false;
      if (HasToken(value, "keep-alive")) saw_connection_keep_alive_ = true;
    }
  }
  if (observer_) observer_->OnHeader(name, value);
}

void ResponseParser::EndOfHeaders() {
  if (status_ < 200 && status_ != 101) {
    // Interim response (100 Continue, 103 Early Hints): the real one follows.
    int64_t seen = header_bytes_;
    ResponseObserver* obs = observer_;
    bool head = head_request_;
    Reset(head, obs);
    header_bytes_ = seen;
    started_ = true;
    return;
  }
  if (http10_ && !saw_connection_keep_alive_) keep_alive_ = false;
  if (head_request_ || status_ == 101 || status_ == 204 || status_ == 304) {
    state_ = State::kDone;
    return;
  }
  if (chunked_) {
    state_ = State::kChunkSize;
    return;
  }
  if (has_length_) {
    remaining_ = content_length_;
    state_ = remaining_ == 0 ? State::kDone : State::kBodyLength;
    return;
  }
  keep_alive_ = false;
  state_ = State::kBodyUntilClose;
}

void ResponseParser::HandleChunkSizeLine(std::string_view line) {
  size_t semi = line.find(';');
  std::string_view hex = TrimOws(line.substr(0, semi));
  if (hex.empty() || hex.size() > 15) {
    Fail(ParseError::kBadChunk);
    return;
  }
  int64_t n = 0;
  for (char c : hex) {
    int d = 0;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else {
      Fail(ParseError::kBadChunk);
      return;
    }
    n = n * 16 + d;
  }
  if (n == 0) {
    header_bytes_ = 0;  // trailers get their own 64 KiB budget
    state_ = State::kTrailers;
    return;
  }
  remaining_ = n;
  state_ = State::kChunkData;
}

bool ResponseParser::OnEof() {
  if (state_ == State::kBodyUntilClose) {
    state_ = State::kDone;
    return true;
  }
  if (state_ == State::kDone) return true;
  if (state_ != State::kError) Fail(ParseError::kTruncated);
  return false;
}

}  // namespace loadcell::http1
