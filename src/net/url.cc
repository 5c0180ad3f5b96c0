#include "net/url.h"

#include <cctype>

#include <fmt/format.h>

namespace loadcell {

std::string Url::HostHeader() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port = port == (tls() ? 443 : 80);
  if (!default_port) h += ":" + std::to_string(port);
  return h;
}

Result<Url> ParseUrl(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Error::InvalidArgument(fmt::format("invalid URL \"{}\": {}", text, why));
  };
  Url u;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos)
    return bad("expected http://host[:port]/path or https://... (ws:// or wss:// for WebSocket)");
  u.scheme = std::string(text.substr(0, sep));
  for (char& c : u.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (u.scheme != "http" && u.scheme != "https" && u.scheme != "ws" && u.scheme != "wss") {
    return bad("scheme must be http, https, ws or wss");
  }
  std::string_view rest = text.substr(sep + 3);
  size_t path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view path = path_at == std::string_view::npos ? std::string_view("/") : rest.substr(path_at);
  if (size_t hash = path.find('#'); hash != std::string_view::npos) path = path.substr(0, hash);
  if (authority.find('@') != std::string_view::npos)
    return bad("credentials in the URL are not supported; use -H 'Authorization: ...'");
  std::string_view port_text;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("unexpected text after IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (u.host.empty()) return bad("missing host");
  for (char c : u.host) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0) return bad("whitespace in host");
  }
  if (!port_text.empty()) {
    int port = 0;
    for (char c : port_text) {
      if (std::isdigit(static_cast<unsigned char>(c)) == 0 || port > 65535) return bad("port must be a number 1-65535");
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return bad("port must be a number 1-65535");
    u.port = static_cast<uint16_t>(port);
  } else if (authority.ends_with(":")) {
    return bad("empty port");
  } else {
    u.port = u.tls() ? 443 : 80;
  }
  if (path.starts_with("?"))
    u.path = "/" + std::string(path);
  else
    u.path = std::string(path);
  for (char c : u.path) {
    if (c == ' ' || c == '\r' || c == '\n') return bad("path must be percent-encoded (found whitespace)");
  }
  return u;
}

std::string PercentEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

}  // namespace loadcell
