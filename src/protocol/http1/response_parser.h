// Incremental HTTP/1.1 response parser for the client side.
//
// Feed() takes whatever a read() returned; a response may be split at any byte. Bodies
// are streamed: their bytes are counted and handed to an optional observer, never
// buffered, so a 200 MB body costs no memory. Only a line split across two reads is
// copied (into a small buffer bounded by the 64 KiB header limit).
//
// One parser per connection; not thread-safe. Reset() before each response.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace loadcell::http1 {

enum class ParseError : uint8_t {
  kNone,
  kBadStatusLine,
  kBadHeader,
  kHeaderTooLarge,  // status line + headers over kMaxHeaderBytes
  kBadContentLength,
  kBadChunk,
  kTruncated,  // the connection closed before the response was complete
};
const char* ParseErrorName(ParseError e);

// Receives the parts of a response that callers (captures, checks) want to see.
class ResponseObserver {
 public:
  virtual ~ResponseObserver() = default;
  virtual void OnHeader(std::string_view name, std::string_view value) = 0;
  virtual void OnBody(std::string_view chunk) = 0;
  // A response is about to be read (a new request, or one resent on a new connection
  // after its first attempt was seen in part): forget what was seen before.
  virtual void OnStart() = 0;
};

class ResponseParser {
 public:
  static constexpr size_t kMaxHeaderBytes = 64 * 1024;

  // Prepares for the next response. `head_request` means no body whatever the headers say.
  void Reset(bool head_request = false, ResponseObserver* observer = nullptr);

  // Consumes bytes of the current response and returns how many. Stops at the end of the
  // response: anything after it belongs to the next one. On error, error() is set and the
  // connection must be discarded.
  size_t Feed(const char* data, size_t len);

  // The peer closed the connection. Completes a body delimited by close; anything else
  // unfinished becomes kTruncated. Returns true when the response is complete.
  bool OnEof();

  bool done() const { return state_ == State::kDone; }
  ParseError error() const { return error_; }
  bool started() const { return started_; }
  int status() const { return status_; }
  // False when the server asked to close (Connection: close, HTTP/1.0 without keep-alive,
  // or a body delimited by closing the connection).
  bool keep_alive() const { return keep_alive_; }
  int64_t body_bytes() const { return body_bytes_; }
  int64_t header_bytes() const { return header_bytes_; }

 private:
  enum class State : uint8_t {
    kStatusLine,
    kHeaders,
    kBodyLength,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kBodyUntilClose,
    kDone,
    kError
  };

  // Line-oriented states share this: returns false when more input is needed.
  bool TakeLine(const char*& p, const char* end, std::string_view* line);
  void HandleLine(std::string_view line);
  void HandleStatusLine(std::string_view line);
  void HandleHeaderLine(std::string_view line);
  void HandleChunkSizeLine(std::string_view line);
  void EndOfHeaders();
  void Body(const char* p, size_t n);
  void Fail(ParseError e) {
    error_ = e;
    state_ = State::kError;
  }

  // Ordered for size (one of these per connection).
  ResponseObserver* observer_ = nullptr;
  std::string partial_;  // a line split across reads
  State state_ = State::kStatusLine;
  ParseError error_ = ParseError::kNone;
  bool head_request_ = false;
  bool started_ = false;
  bool http10_ = false;
  bool keep_alive_ = true;
  bool saw_connection_keep_alive_ = false;
  bool chunked_ = false;
  bool has_length_ = false;
  bool in_trailers_ = false;
  bool saw_chunk_cr_ = false;  // the CR of the CRLF after chunk data
  int status_ = 0;
  int64_t content_length_ = 0;
  int64_t remaining_ = 0;  // in the current body or chunk
  int64_t body_bytes_ = 0;
  int64_t header_bytes_ = 0;
};

}  // namespace loadcell::http1
