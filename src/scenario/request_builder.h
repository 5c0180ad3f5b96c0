// A request step compiled against the test's target and defaults: its origin (scheme,
// host, port — fixed at load, resolved once), and either the finished request bytes
// (no templates anywhere: the common case costs nothing per request) or the parts to
// render per request.
//
// A URL whose scheme and host come from a template follows k6's rule: whatever the URL
// renders to wins, per request. A template of `vars` alone renders once, here; any other
// (a captured link, a data column) renders per request, and an absolute result carries its
// own origin (RenderSpec's url, Render's `origin`), which the worker connects to.
#pragma once

#include <map>
#include <string>

#include "common/result.h"
#include "net/url.h"
#include "protocol/http1/request.h"
#include "scenario/definition.h"

namespace loadcell {

class RequestBuilder {
 public:
  // `target` is the test's base URL ("" when URLs are absolute); default headers and
  // timeout come from `defaults:`.
  static Result<RequestBuilder> Build(const RequestStep& step, const std::string& target,
                                      const TemplatePairs& default_headers,
                                      const std::map<std::string, std::string>& vars = {});

  const Url& origin() const { return origin_; }  // path unused; empty host: decided per request
  // True when the URL's origin is known only once it renders (see above).
  bool dynamic_origin() const { return dynamic_; }
  bool is_static() const { return !bytes_.empty(); }
  const std::string& static_bytes() const { return bytes_; }
  // The request bytes for this VU's state (static requests return their bytes).
  // `origin`, when given, receives the origin the bytes are for.
  Result<std::string> Render(TemplateContext& ctx, Url* origin = nullptr) const;
  // The parts of the request (for HTTP/2, which frames them itself).
  Result<http1::RequestSpec> RenderSpec(TemplateContext& ctx) const;
  // The parts of a static request (is_static()), without a VU.
  Result<http1::RequestSpec> StaticSpec() const;

 private:
  const RequestStep* step_ = nullptr;
  Template url_;  // the step's URL, or what its `vars` render to
  Url origin_;
  bool dynamic_ = false;
  std::string path_prefix_;  // from the target URL, before the step's (relative) path
  bool absolute_ = false;
  size_t origin_len_ = 0;  // absolute URLs: length of "scheme://host:port"
  TemplatePairs headers_;  // defaults then the step's own (later wins)
  std::string bytes_;      // set when nothing is templated
};

}  // namespace loadcell
