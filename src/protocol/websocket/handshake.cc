#include "protocol/websocket/handshake.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <fmt/format.h>

#include "protocol/http1/ascii.h"

namespace loadcell::ws {
namespace {

constexpr size_t kMaxHead = 64 * 1024;
constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string Base64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

bool Safe(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool HasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (http1::IEquals(Trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::string AcceptKey(std::string_view client_key) {
  std::string s(client_key);
  s += kGuid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  return Base64(digest, sizeof digest);
}

std::string MakeClientKey(uint64_t a, uint64_t b) {
  unsigned char raw[16];
  for (int i = 0; i < 8; ++i) {
    raw[i] = static_cast<unsigned char>(a >> (8 * i));
    raw[8 + i] = static_cast<unsigned char>(b >> (8 * i));
  }
  return Base64(raw, sizeof raw);
}

Result<std::string> CompileUpgradeRequest(const Url& url,
                                          const std::vector<std::pair<std::string, std::string>>& headers,
                                          const std::vector<std::string>& subprotocols, std::string_view key) {
  std::string out = fmt::format("GET {} HTTP/1.1\r\n", url.path.empty() ? "/" : url.path);
  bool has_host = false, has_ua = false;
  for (const auto& [name, value] : headers) {
    if (!http1::IsToken(name)) return Error::InvalidArgument(fmt::format("invalid header name '{}'", name));
    if (!Safe(value)) return Error::InvalidArgument(fmt::format("header {}: value contains CR or LF", name));
    has_host |= http1::IEquals(name, "host");
    has_ua |= http1::IEquals(name, "user-agent");
  }
  if (!has_host) out += fmt::format("Host: {}\r\n", url.HostHeader());
  if (!has_ua) out += "User-Agent: loadcell/" LOADCELL_VERSION "\r\n";
  for (const auto& [name, value] : headers) out += fmt::format("{}: {}\r\n", name, value);
  out += fmt::format(
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n", key);
  if (!subprotocols.empty()) {
    std::string list;
    for (const std::string& p : subprotocols) {
      if (!http1::IsToken(p)) return Error::InvalidArgument(fmt::format("invalid subprotocol '{}'", p));
      if (!list.empty()) list += ", ";
      list += p;
    }
    out += fmt::format("Sec-WebSocket-Protocol: {}\r\n", list);
  }
  out += "\r\n";
  return out;
}

HandshakeResponse ParseHandshakeResponse(std::string_view buf) {
  HandshakeResponse r;
  size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (buf.size() > kMaxHead) {
      r.state = HandshakeResponse::State::kError;
      r.error = "handshake response head over 64 KiB";
    } else if (buf.size() >= 5 && !buf.starts_with("HTTP/")) {
      r.state = HandshakeResponse::State::kError;
      r.error = "handshake response is not HTTP";
    }
    return r;
  }
  r.head_bytes = end + 4;
  std::string_view head = buf.substr(0, end);
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  // "HTTP/1.1 101 Switching Protocols"
  if (!line.starts_with("HTTP/1.") || line.size() < 12 || line[8] != ' ') {
    r.state = HandshakeResponse::State::kError;
    r.error = fmt::format("bad status line '{}'", line.substr(0, 80));
    return r;
  }
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') {
      r.state = HandshakeResponse::State::kError;
      r.error = fmt::format("bad status line '{}'", line.substr(0, 80));
      return r;
    }
    r.status = r.status * 10 + (line[i] - '0');
  }
  r.reason = std::string(Trim(line.substr(12)));
  std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  while (!rest.empty()) {
    size_t e = rest.find("\r\n");
    std::string_view h = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
    size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      r.state = HandshakeResponse::State::kError;
      r.error = fmt::format("bad header line '{}'", h.substr(0, 80));
      return r;
    }
    std::string name;
    for (char c : h.substr(0, colon)) name.push_back(http1::AsciiLower(c));
    std::string& v = r.headers[name];
    if (!v.empty()) v += ", ";
    v += Trim(h.substr(colon + 1));
  }
  r.state = HandshakeResponse::State::kComplete;
  return r;
}

Status CheckHandshake(const HandshakeResponse& r, std::string_view key, const std::vector<std::string>& subprotocols) {
  auto header = [&](const char* name) -> std::string_view {
    auto it = r.headers.find(name);
    return it == r.headers.end() ? std::string_view() : std::string_view(it->second);
  };
  if (r.status != 101) {
    return Error::Protocol(fmt::format("handshake refused: {} {}", r.status, r.reason));
  }
  if (!HasToken(header("upgrade"), "websocket")) return Error::Protocol("handshake: no 'Upgrade: websocket'");
  if (!HasToken(header("connection"), "upgrade")) return Error::Protocol("handshake: no 'Connection: Upgrade'");
  if (header("sec-websocket-accept") != AcceptKey(key)) return Error::Protocol("handshake: bad Sec-WebSocket-Accept");
  std::string_view proto = header("sec-websocket-protocol");
  if (!proto.empty()) {
    bool offered = false;
    for (const std::string& p : subprotocols) offered |= p == proto;
    if (!offered)
      return Error::Protocol(fmt::format("handshake: server chose subprotocol '{}' that was not offered", proto));
  }
  if (!header("sec-websocket-extensions").empty()) {
    return Error::Protocol("handshake: server enabled an extension that was not offered");
  }
  return Status::Ok();
}

}  // namespace loadcell::ws
