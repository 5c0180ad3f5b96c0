#include "scenario/request_builder.h"
#include "common/rng.h"

#include <algorithm>

#include <fmt/format.h>

#include "net/url.h"
#include "protocol/http1/ascii.h"
#include "protocol/http1/request.h"

namespace loadcell {
namespace {

// A template with no expressions renders without a context.
class NoContext final : public TemplateContext {
 public:
  bool Lookup(std::string_view, std::string*) const override { return false; }
  Xoshiro256& Rng() override { return rng_; }
  int64_t NowMs() const override { return 0; }

 private:
  Xoshiro256 rng_;
};

// The `vars:` of the test, for a URL that reads nothing else.
class VarsContext final : public TemplateContext {
 public:
  explicit VarsContext(const std::map<std::string, std::string>& vars) : vars_(vars) {}
  bool Lookup(std::string_view name, std::string* out) const override {
    if (!name.starts_with("vars.")) return false;
    auto it = vars_.find(std::string(name.substr(5)));
    if (it == vars_.end()) return false;
    *out = it->second;
    return true;
  }
  Xoshiro256& Rng() override { return rng_; }
  int64_t NowMs() const override { return 0; }

 private:
  const std::map<std::string, std::string>& vars_;
  Xoshiro256 rng_;
};

bool StartsWithHttp(std::string_view s) { return s.starts_with("http://") || s.starts_with("https://"); }

bool AllLiteral(const TemplatePairs& pairs) {
  for (const auto& [_, t] : pairs) {
    if (!t.is_literal()) return false;
  }
  return true;
}

}  // namespace

Result<RequestBuilder> RequestBuilder::Build(const RequestStep& step, const std::string& target,
                                             const TemplatePairs& default_headers,
                                             const std::map<std::string, std::string>& vars) {
  RequestBuilder b;
  b.step_ = &step;
  b.url_ = step.url;
  // A URL that reads only `vars` is the same for every request: render it now, so that its
  // origin is fixed (and resolved) at load time like a literal one.
  if (!step.url.is_literal()) {
    std::vector<std::string> names = step.url.Names();
    bool vars_only = !names.empty() && std::all_of(names.begin(), names.end(),
                                                   [](const std::string& n) { return n.starts_with("vars."); });
    if (vars_only && !step.url.CallsFunctions()) {
      VarsContext ctx(vars);
      auto rendered = step.url.Render(ctx);
      if (!rendered.ok())
        return Error::InvalidArgument(fmt::format("request `{}`: url: {}", step.name, rendered.error().message));
      if (rendered->find("{{") == std::string::npos) {
        auto literal = Template::Compile(*rendered);
        if (literal.ok()) b.url_ = std::move(literal).value();
      }
    }
  }
  // The origin is fixed at load time (and resolved once) when the URL spells out
  // scheme://host[:port]/ before any template.
  std::string prefix = b.url_.LiteralPrefix();
  if (StartsWithHttp(prefix)) {
    size_t slash = prefix.find('/', prefix.find("://") + 3);
    if (slash == std::string::npos && b.url_.is_literal()) {
      slash = prefix.size();  // "http://host:port" alone: the path is "/"
    }
    if (slash == std::string::npos) {
      // "http://{{ host }}/…": the host comes from a template, per request.
      b.dynamic_ = true;
    } else {
      auto u = ParseUrl(prefix.substr(0, slash));
      if (!u.ok()) return u.error();
      b.origin_ = *u;
      b.absolute_ = true;
      b.origin_len_ = slash;
    }
  } else if (!prefix.empty() || b.url_.is_literal()) {
    // A path: relative to the target.
    if (target.empty()) {
      return Error::InvalidArgument(
          fmt::format("request `{}` has a relative URL but the test has no `target`", step.name));
    }
  } else {
    // The URL starts with a template: an absolute result goes where it says, a relative one
    // to the target.
    b.dynamic_ = true;
  }
  if (!b.absolute_ && !target.empty()) {
    auto u = ParseUrl(target);
    if (!u.ok()) return u.error();
    b.origin_ = *u;
    b.path_prefix_ = u->path == "/" ? "" : u->path;
    if (b.path_prefix_.ends_with("/")) b.path_prefix_.pop_back();
  }
  // Later headers override earlier ones with the same name (step over defaults).
  for (const auto& [name, value] : default_headers) {
    bool overridden = false;
    for (const auto& [n2, _] : step.headers) overridden |= http1::IEquals(name, n2);
    if (!overridden) b.headers_.emplace_back(name, value);
  }
  for (const auto& h : step.headers) b.headers_.push_back(h);
  if (b.url_.is_literal() && AllLiteral(b.headers_) && AllLiteral(step.query) && AllLiteral(step.form) &&
      step.body.is_literal() && step.json.is_literal()) {
    NoContext ctx;
    auto bytes = b.Render(ctx);
    if (!bytes.ok()) return bytes.error();
    b.bytes_ = std::move(bytes).value();
  }
  return b;
}

Result<std::string> RequestBuilder::Render(TemplateContext& ctx, Url* origin) const {
  if (!bytes_.empty()) {
    if (origin != nullptr) *origin = origin_;
    return bytes_;
  }
  auto spec = RenderSpec(ctx);
  if (!spec.ok()) return spec.error();
  if (origin != nullptr) *origin = spec->url;
  return http1::CompileRequest(*spec);
}

Result<http1::RequestSpec> RequestBuilder::StaticSpec() const {
  NoContext ctx;
  return RenderSpec(ctx);
}

Result<http1::RequestSpec> RequestBuilder::RenderSpec(TemplateContext& ctx) const {
  const RequestStep& s = *step_;
  http1::RequestSpec spec;
  spec.method = s.method;
  spec.url = origin_;
  auto url = url_.Render(ctx);
  if (!url.ok()) return url.error();
  std::string path;
  if (absolute_) {
    path = url->substr(origin_len_);
    if (!path.starts_with("/")) path = "/" + path;  // "http://host:8080" and "http://host:8080?q=1"
  } else if (dynamic_ && url->find("://") != std::string::npos) {
    if (!StartsWithHttp(*url)) {
      return Error::InvalidArgument(
          fmt::format("the URL rendered to `{}`: a request URL is http://, https:// or a path", *url));
    }
    auto u = ParseUrl(*url);
    if (!u.ok()) return Error::InvalidArgument(fmt::format("the URL rendered to `{}`: {}", *url, u.error().message));
    spec.url = *u;
    path = u->path;
  } else if (origin_.host.empty()) {
    return Error::InvalidArgument(fmt::format("the URL rendered to `{}`, a path, and the test has no `target`", *url));
  } else {
    path = path_prefix_ + (url->starts_with("/") ? *url : "/" + *url);
  }
  if (!s.query.empty()) {
    path += path.find('?') == std::string::npos ? '?' : '&';
    bool first = true;
    for (const auto& [k, t] : s.query) {
      auto v = t.Render(ctx);
      if (!v.ok()) return v.error();
      path += fmt::format("{}{}={}", first ? "" : "&", PercentEncode(k), PercentEncode(*v));
      first = false;
    }
  }
  spec.url.path = path;
  for (const auto& [name, t] : headers_) {
    auto v = t.Render(ctx);
    if (!v.ok()) return v.error();
    spec.headers.emplace_back(name, *v);
  }
  bool has_ct = false;
  for (const auto& [n, _] : spec.headers) has_ct |= http1::IEquals(n, "content-type");
  switch (s.body_kind) {
    case RequestStep::Body::kNone: break;
    case RequestStep::Body::kRaw: {
      auto b = s.body.Render(ctx);
      if (!b.ok()) return b.error();
      spec.body = *b;
      break;
    }
    case RequestStep::Body::kJson: {
      auto b = s.json.Render(ctx);
      if (!b.ok()) return b.error();
      spec.body = *b;
      if (!has_ct) spec.headers.emplace_back("Content-Type", "application/json");
      break;
    }
    case RequestStep::Body::kForm: {
      bool first = true;
      for (const auto& [k, t] : s.form) {
        auto v = t.Render(ctx);
        if (!v.ok()) return v.error();
        spec.body += fmt::format("{}{}={}", first ? "" : "&", PercentEncode(k), PercentEncode(*v));
        first = false;
      }
      if (!has_ct) spec.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
      break;
    }
  }
  return spec;
}

}  // namespace loadcell
