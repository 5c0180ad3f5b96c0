#include "scenario/ws_builder.h"

#include <fmt/format.h>

#include "protocol/websocket/handshake.h"

namespace loadcell {

Result<WsBuilder> WsBuilder::Build(const WsStep& step, const std::string& target) {
  WsBuilder b;
  b.step_ = &step;
  std::string prefix = step.url.LiteralPrefix();
  if (prefix.starts_with("ws://") || prefix.starts_with("wss://")) {
    size_t slash = prefix.find('/', prefix.find("://") + 3);
    std::string origin = prefix.substr(0, slash);
    if (slash == std::string::npos && !step.url.is_literal()) {
      return Error::InvalidArgument(
          fmt::format("ws `{}`: the scheme and host of a URL cannot be templated", step.name));
    }
    auto u = ParseUrl(origin);
    if (!u.ok()) return u.error();
    b.origin_ = *u;
    b.absolute_ = true;
    b.origin_len_ = origin.size();
    return b;
  }
  if (target.empty())
    return Error::InvalidArgument(fmt::format("ws `{}` has a relative URL but the test has no `target`", step.name));
  auto u = ParseUrl(target);
  if (!u.ok()) return u.error();
  b.origin_ = *u;
  b.origin_.scheme = u->tls() ? "wss" : "ws";
  b.path_prefix_ = u->path == "/" ? "" : u->path;
  if (b.path_prefix_.ends_with("/")) b.path_prefix_.pop_back();
  return b;
}

Result<std::string> WsBuilder::Render(TemplateContext& ctx, const std::string& key) const {
  const WsStep& s = *step_;
  auto url = s.url.Render(ctx);
  if (!url.ok()) return url.error();
  Url u = origin_;
  if (absolute_) {
    u.path = url->substr(origin_len_);
    if (u.path.empty()) u.path = "/";
  } else {
    u.path = path_prefix_ + (url->starts_with("/") ? *url : "/" + *url);
  }
  if (u.path.find_first_of(" \r\n") != std::string::npos) {
    return Error::InvalidArgument(fmt::format("ws `{}`: the URL path contains whitespace", s.name));
  }
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, t] : s.headers) {
    auto v = t.Render(ctx);
    if (!v.ok()) return v.error();
    headers.emplace_back(name, *v);
  }
  return ws::CompileUpgradeRequest(u, headers, s.subprotocols, key);
}

}  // namespace loadcell
