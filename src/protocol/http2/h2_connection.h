// One HTTP/2 client connection's protocol state, over nghttp2 in "memory" mode: bytes read
// from the socket go in with Receive(), frames to write come out of Drain(). The socket,
// TLS, timeouts and what a finished stream means stay with the caller (the worker), so
// the same transport code serves HTTP/1.1 and HTTP/2.
//
// Streams: Submit() opens one for a compiled request and attaches the caller's H2Stream;
// OnStreamDone reports its end once: with the :status (error_code 0) or with the
// stream's or connection's error. Streams the server refused (REFUSED_STREAM, or above
// the last stream id of a GOAWAY) report `refused`: nothing was processed, so they may
// be retried on another connection. Flow control is nghttp2's (window updates are sent
// as data is consumed); the windows are opened wide so a load test measures the server.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "net/url.h"
#include "protocol/http1/response_parser.h"

namespace loadcell::h2 {

// A request compiled once: pseudo-headers then lower-cased headers, the body, and the
// nghttp2 name/value array pointing into them (valid while the H2Request lives).
class H2Request {
 public:
  // Connection-specific HTTP/1 headers (Connection, Keep-Alive, Transfer-Encoding,
  // Upgrade) are dropped; Host becomes :authority.
  static Result<H2Request> Compile(std::string_view method, const Url& url,
                                   const std::vector<std::pair<std::string, std::string>>& headers, std::string body);
  H2Request(const H2Request& o) : fields_(o.fields_), body_(o.body_) { Link(); }
  H2Request(H2Request&& o) noexcept : fields_(std::move(o.fields_)), body_(std::move(o.body_)) { Link(); }
  H2Request& operator=(const H2Request&) = delete;

  const std::vector<nghttp2_nv>& nva() const { return nva_; }
  const std::string& body() const { return body_; }
  // GET, HEAD, PUT, DELETE, OPTIONS, TRACE (RFC 9110 §9.2.2): safe to send again when the
  // connection was lost before any answer to it.
  bool idempotent() const;
  // Bytes of the header block as a rough size (for data_sent accounting).
  size_t head_size() const;

 private:
  H2Request() = default;
  void Link();
  std::vector<std::pair<std::string, std::string>> fields_;
  std::string body_;
  std::vector<nghttp2_nv> nva_;
};

// The caller's per-stream state; the connection fills status and counts body bytes.
struct H2Stream {
  int32_t id = -1;
  int status = 0;
  int64_t body_bytes = 0;
  size_t sent_body = 0;  // bytes of the request body handed to nghttp2
  const H2Request* request = nullptr;
  size_t slot = 0;                              // H2Client's bookkeeping
  http1::ResponseObserver* observer = nullptr;  // set: gets the headers and body (checks, captures)
};

// How often a stream the server did not process is sent again (a GOAWAY, or a connection
// lost before any answer, can meet the same stream on its next connection too).
inline constexpr int kMaxResends = 3;

class H2Events {
 public:
  // `error_code` 0: the response is complete. Otherwise an HTTP/2 error code; `refused`
  // when the server did not process the stream.
  virtual void OnStreamDone(H2Stream* stream, uint32_t error_code, bool refused) = 0;

 protected:
  ~H2Events() = default;
};

class H2Connection {
 public:
  explicit H2Connection(H2Events& events);
  ~H2Connection();
  H2Connection(const H2Connection&) = delete;
  H2Connection& operator=(const H2Connection&) = delete;

  // Creates the session and queues the connection preface and SETTINGS.
  Status Start();
  // Opens a stream; false when the connection cannot take one (GOAWAY, ids exhausted).
  bool Submit(const H2Request& request, H2Stream* stream);
  // Cancels a stream (RST_STREAM CANCEL), e.g. after a timeout. OnStreamDone follows.
  void Cancel(H2Stream* stream);
  // Feeds bytes from the server; false on a connection error (error() says which).
  bool Receive(const char* data, size_t n);
  // Appends every frame waiting to be sent to `out`; false on a fatal error.
  bool Drain(std::string* out);
  // The server sent GOAWAY, or we hit a fatal error: no new streams on this connection.
  bool closing() const { return goaway_ || failed_; }
  // The server's GOAWAY: streams above this id were not processed (-1: no GOAWAY yet).
  int32_t goaway_last_stream() const { return goaway_ ? goaway_last_stream_ : -1; }
  // Streams the server lets us open at once (its SETTINGS_MAX_CONCURRENT_STREAMS).
  uint32_t peer_max_streams() const;
  const std::string& error() const { return error_; }

 private:
  static int OnHeader(nghttp2_session*, const nghttp2_frame*, const uint8_t*, size_t, const uint8_t*, size_t, uint8_t,
                      void*);
  static int OnDataChunk(nghttp2_session*, uint8_t, int32_t, const uint8_t*, size_t, void*);
  static int OnStreamClose(nghttp2_session*, int32_t, uint32_t, void*);
  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame*, void*);
  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t*, size_t, uint32_t*, nghttp2_data_source*, void*);

  H2Events& events_;
  nghttp2_session* session_ = nullptr;
  bool goaway_ = false;
  int32_t goaway_last_stream_ = 0;
  bool failed_ = false;
  std::string error_;
};

}  // namespace loadcell::h2
