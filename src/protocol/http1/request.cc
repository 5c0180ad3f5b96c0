#include "protocol/http1/request.h"

#include "protocol/http1/ascii.h"

#include <fmt/format.h>

namespace loadcell::http1 {
Result<std::pair<std::string, std::string>> ParseHeaderArg(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Error::InvalidArgument(fmt::format("invalid header \"{}\": expected 'Name: value'", text));
  }
  std::string_view name = TrimOws(text.substr(0, colon));
  std::string_view value = TrimOws(text.substr(colon + 1));
  if (!IsToken(name)) return Error::InvalidArgument(fmt::format("invalid header \"{}\": bad header name", text));
  if (value.find_first_of("\r\n") != std::string_view::npos) {
    return Error::InvalidArgument(fmt::format("invalid header \"{}\": value contains a line break", text));
  }
  return std::make_pair(std::string(name), std::string(value));
}

Result<std::string> CompileRequest(const RequestSpec& spec) {
  if (!IsToken(spec.method)) return Error::InvalidArgument(fmt::format("invalid method \"{}\"", spec.method));
  bool has_host = false, has_ua = false, has_length = false;
  std::string out = fmt::format("{} {} HTTP/1.1\r\n", spec.method, spec.url.path);
  for (const auto& [name, value] : spec.headers) {
    if (!IsToken(name) || value.find_first_of("\r\n") != std::string::npos) {
      return Error::InvalidArgument(fmt::format("invalid header \"{}\"", name));
    }
    has_host |= IEquals(name, "host");
    has_ua |= IEquals(name, "user-agent");
    has_length |= IEquals(name, "content-length") || IEquals(name, "transfer-encoding");
  }
  if (!has_host) out += fmt::format("Host: {}\r\n", spec.url.HostHeader());
  if (!has_ua) out += "User-Agent: loadcell/" LOADCELL_VERSION "\r\n";
  for (const auto& [name, value] : spec.headers) out += fmt::format("{}: {}\r\n", name, value);
  if (!has_length && (!spec.body.empty() || spec.method == "POST" || spec.method == "PUT" || spec.method == "PATCH")) {
    out += fmt::format("Content-Length: {}\r\n", spec.body.size());
  }
  out += "\r\n";
  out += spec.body;

  // Parse the bytes back: what we send must be exactly one well-formed request.
  RequestHead head = ParseRequestHead(out);
  if (head.state != RequestHead::State::kComplete ||
      head.head_bytes + static_cast<size_t>(head.content_length) != out.size()) {
    return Error::InvalidArgument(fmt::format("request does not parse back as one HTTP/1.1 request: {}",
                                              head.error.empty() ? "length mismatch" : head.error));
  }
  return out;
}

RequestHead ParseRequestHead(std::string_view buf) {
  RequestHead h;
  size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (buf.size() > 64 * 1024) {
      h.state = RequestHead::State::kError;
      h.error = "request head larger than 64 KiB";
    }
    return h;
  }
  h.head_bytes = end + 4;
  auto fail = [&](std::string why) {
    h.state = RequestHead::State::kError;
    h.error = std::move(why);
    return h;
  };
  std::string_view head = buf.substr(0, end);
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) return fail("malformed request line");
  h.method = line.substr(0, sp1);
  h.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(h.method) || h.target.empty()) return fail("malformed request line");
  if (version == "HTTP/1.0")
    h.keep_alive = false;
  else if (version != "HTTP/1.1")
    return fail("unsupported HTTP version");
  std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  bool saw_length = false;
  while (!rest.empty()) {
    size_t e = rest.find("\r\n");
    std::string_view l = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
    size_t colon = l.find(':');
    if (colon == std::string_view::npos || !IsToken(l.substr(0, colon))) return fail("malformed header line");
    std::string_view name = l.substr(0, colon);
    const size_t n = name.size();
    if (n != 14 && n != 17 && n != 10 && n != 13 && n != 12 && n != 7 && n != 22) continue;  // none of the names below
    std::string_view value = TrimOws(l.substr(colon + 1));
    if (n == 14 && IEquals(name, "content-length")) {
      int64_t n = 0;
      if (value.empty() || value.size() > 18) return fail("invalid Content-Length");
      for (char c : value) {
        if (c < '0' || c > '9') return fail("invalid Content-Length");
        n = n * 10 + (c - '0');
      }
      if (saw_length && n != h.content_length) return fail("conflicting Content-Length");
      saw_length = true;
      h.content_length = n;
    } else if (n == 17 && IEquals(name, "transfer-encoding")) {
      h.chunked = true;
    } else if (n == 17 && IEquals(name, "sec-websocket-key")) {
      h.ws_key = value;
    } else if (n == 22 && IEquals(name, "sec-websocket-protocol")) {
      h.ws_protocols = value;
    } else if (n == 7 && IEquals(name, "upgrade")) {
      h.upgrade = value;
    } else if (n == 10 && IEquals(name, "connection")) {
      if (IEquals(value, "close")) h.keep_alive = false;
      if (IEquals(value, "keep-alive")) h.keep_alive = true;
    } else if (n == 13 && IEquals(name, "authorization")) {
      h.authorization = value;
    } else if (n == 12 && IEquals(name, "content-type")) {
      h.content_type = value;
    }
  }
  h.state = RequestHead::State::kComplete;
  return h;
}

}  // namespace loadcell::http1
