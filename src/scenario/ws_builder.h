// A `ws` step compiled against the test's target: its origin (ws:// or wss://, resolved
// once at load; a relative URL takes the target's host with http→ws, https→wss) and the
// upgrade request rendered per session with a fresh key.
#pragma once

#include <string>

#include "common/result.h"
#include "net/url.h"
#include "scenario/definition.h"

namespace loadcell {

class WsBuilder {
 public:
  static Result<WsBuilder> Build(const WsStep& step, const std::string& target);

  const Url& origin() const { return origin_; }
  // The GET upgrade request for this VU's state, with Sec-WebSocket-Key `key`.
  Result<std::string> Render(TemplateContext& ctx, const std::string& key) const;

 private:
  const WsStep* step_ = nullptr;
  Url origin_;
  std::string path_prefix_;
  bool absolute_ = false;
  size_t origin_len_ = 0;
};

}  // namespace loadcell
