#include "protocol/http2/h2_connection.h"

#include <cstring>

#include <fmt/format.h>

#include "protocol/http1/ascii.h"

namespace loadcell::h2 {
namespace {

constexpr int32_t kWindow = (1 << 30);         // connection window: effectively unlimited
constexpr int32_t kStreamWindow = (16 << 20);  // per stream: 16 MiB before a WINDOW_UPDATE

bool IsConnectionHeader(std::string_view lower) {
  return lower == "connection" || lower == "keep-alive" || lower == "proxy-connection" ||
         lower == "transfer-encoding" || lower == "upgrade" || lower == "host";
}

}  // namespace

bool H2Request::idempotent() const {
  const std::string& m = fields_.front().second;  // :method comes first
  return m == "GET" || m == "HEAD" || m == "PUT" || m == "DELETE" || m == "OPTIONS" || m == "TRACE";
}

Result<H2Request> H2Request::Compile(std::string_view method, const Url& url,
                                     const std::vector<std::pair<std::string, std::string>>& headers,
                                     std::string body) {
  H2Request r;
  std::string authority = url.HostHeader();
  for (const auto& [name, value] : headers) {
    if (http1::IEquals(name, "host")) authority = value;
  }
  r.fields_.emplace_back(":method", std::string(method));
  r.fields_.emplace_back(":scheme", url.tls() ? "https" : "http");
  r.fields_.emplace_back(":authority", authority);
  r.fields_.emplace_back(":path", url.path.empty() ? "/" : url.path);
  bool has_ua = false;
  for (const auto& [name, value] : headers) {
    std::string lower;
    for (char c : name) lower.push_back(http1::AsciiLower(c));
    if (!http1::IsToken(lower)) return Error::InvalidArgument(fmt::format("invalid header name '{}'", name));
    if (value.find_first_of("\r\n") != std::string::npos) {
      return Error::InvalidArgument(fmt::format("header {}: value contains CR or LF", name));
    }
    if (IsConnectionHeader(lower)) continue;
    has_ua |= lower == "user-agent";
    r.fields_.emplace_back(lower, value);
  }
  if (!has_ua) r.fields_.emplace_back("user-agent", "loadcell/" LOADCELL_VERSION);
  if (!body.empty()) r.fields_.emplace_back("content-length", std::to_string(body.size()));
  r.body_ = std::move(body);
  r.Link();
  return r;
}

void H2Request::Link() {
  nva_.clear();
  for (auto& [name, value] : fields_) {
    nva_.push_back({reinterpret_cast<uint8_t*>(name.data()), reinterpret_cast<uint8_t*>(value.data()), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE});
  }
}

size_t H2Request::head_size() const {
  size_t n = 0;
  for (const auto& [name, value] : fields_) n += name.size() + value.size() + 32;  // RFC 7541's entry size
  return n;
}

H2Connection::H2Connection(H2Events& events) : events_(events) {}

H2Connection::~H2Connection() {
  if (session_ != nullptr) nghttp2_session_del(session_);
}

Status H2Connection::Start() {
  nghttp2_session_callbacks* cb = nullptr;
  if (nghttp2_session_callbacks_new(&cb) != 0) return Error::Internal("nghttp2: out of memory");
  nghttp2_session_callbacks_set_on_header_callback(cb, OnHeader);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, OnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, OnStreamClose);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, OnFrameRecv);
  // Closed streams are not kept for the priority tree (we send no priorities): less
  // bookkeeping per request.
  nghttp2_option* opt = nullptr;
  if (nghttp2_option_new(&opt) != 0) {
    nghttp2_session_callbacks_del(cb);
    return Error::Internal("nghttp2: out of memory");
  }
  nghttp2_option_set_no_closed_streams(opt, 1);
  int rv = nghttp2_session_client_new2(&session_, cb, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
  if (rv != 0) return Error::Internal(fmt::format("nghttp2: {}", nghttp2_strerror(rv)));
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
  };
  rv = nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 2);
  if (rv == 0) rv = nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kWindow);
  if (rv != 0) return Error::Internal(fmt::format("nghttp2: {}", nghttp2_strerror(rv)));
  return Status::Ok();
}

bool H2Connection::Submit(const H2Request& request, H2Stream* stream) {
  if (closing()) return false;
  stream->status = 0;
  stream->body_bytes = 0;
  stream->sent_body = 0;
  stream->request = &request;
  nghttp2_data_provider body{};
  body.source.ptr = stream;
  body.read_callback = ReadBody;
  int32_t id = nghttp2_submit_request(session_, nullptr, request.nva().data(), request.nva().size(),
                                      request.body().empty() ? nullptr : &body, stream);
  if (id < 0) return false;
  stream->id = id;
  return true;
}

void H2Connection::Cancel(H2Stream* stream) {
  if (stream->id > 0) nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream->id, NGHTTP2_CANCEL);
}

bool H2Connection::Receive(const char* data, size_t n) {
  ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data), n);
  if (rv < 0) {
    failed_ = true;
    error_ = fmt::format("HTTP/2: {}", nghttp2_strerror(static_cast<int>(rv)));
    return false;
  }
  return true;
}

bool H2Connection::Drain(std::string* out) {
  for (;;) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      failed_ = true;
      error_ = fmt::format("HTTP/2: {}", nghttp2_strerror(static_cast<int>(n)));
      return false;
    }
    if (n == 0) return true;
    out->append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
}

uint32_t H2Connection::peer_max_streams() const {
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

int H2Connection::OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                           const uint8_t* value, size_t valuelen, uint8_t /*flags*/, void* /*self*/) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  auto* s = static_cast<H2Stream*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
  if (s == nullptr) return 0;
  if (namelen != 7 || std::memcmp(name, ":status", 7) != 0) {
    if (s->observer != nullptr && (namelen == 0 || name[0] != ':')) {
      s->observer->OnHeader(std::string_view(reinterpret_cast<const char*>(name), namelen),
                            std::string_view(reinterpret_cast<const char*>(value), valuelen));
    }
    return 0;
  }
  if (valuelen != 3) return 0;
  int status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
  // An interim 1xx answer is followed by the real one.
  if (status >= 200 || s->status == 0) s->status = status;
  return 0;
}

int H2Connection::OnDataChunk(nghttp2_session* session, uint8_t /*flags*/, int32_t stream_id, const uint8_t* data,
                              size_t len, void* /*self*/) {
  auto* s = static_cast<H2Stream*>(nghttp2_session_get_stream_user_data(session, stream_id));
  if (s == nullptr) return 0;
  s->body_bytes += static_cast<int64_t>(len);
  if (s->observer != nullptr) s->observer->OnBody(std::string_view(reinterpret_cast<const char*>(data), len));
  return 0;
}

int H2Connection::OnFrameRecv(nghttp2_session* /*session*/, const nghttp2_frame* frame, void* self) {
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    auto* c = static_cast<H2Connection*>(self);
    c->goaway_ = true;
    c->goaway_last_stream_ = frame->goaway.last_stream_id;
  }
  return 0;
}

int H2Connection::OnStreamClose(nghttp2_session* session, int32_t stream_id, uint32_t error_code, void* self) {
  auto* s = static_cast<H2Stream*>(nghttp2_session_get_stream_user_data(session, stream_id));
  if (s == nullptr) return 0;
  bool refused = error_code == NGHTTP2_REFUSED_STREAM;
  // A stream ended cleanly without a final status (a bare RST_STREAM NO_ERROR) is a failure.
  uint32_t code = error_code == 0 && s->status < 200 ? static_cast<uint32_t>(NGHTTP2_INTERNAL_ERROR) : error_code;
  static_cast<H2Connection*>(self)->events_.OnStreamDone(s, code, refused);
  return 0;
}

ssize_t H2Connection::ReadBody(nghttp2_session* /*session*/, int32_t /*stream_id*/, uint8_t* buf, size_t length,
                               uint32_t* data_flags, nghttp2_data_source* source, void* /*self*/) {
  auto* s = static_cast<H2Stream*>(source->ptr);
  const std::string& body = s->request->body();
  size_t n = std::min(length, body.size() - s->sent_body);
  std::memcpy(buf, body.data() + s->sent_body, n);
  s->sent_body += n;
  if (s->sent_body == body.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

}  // namespace loadcell::h2
