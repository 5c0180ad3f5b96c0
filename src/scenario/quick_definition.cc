#include "scenario/quick_definition.h"

#include <fmt/format.h>

namespace loadcell {

TestDefinition QuickDefinition(const QuickOptions& o) {
  TestDefinition def;
  def.name = "quick";
  def.target = fmt::format("{}://{}", o.url.scheme, o.url.HostHeader());
  def.default_timeout = o.timeout;
  def.http_version = o.h2 ? 2 : 1;
  def.http_streams = o.h2 ? o.streams : 1;

  RequestStep req;
  std::string url = def.target + o.url.path;
  // Named as a test file's request without `name:` is ("METHOD url").
  req.name = o.method + " " + url;
  req.method = o.method;
  req.url = Template::Literal(url);  // braces in a URL or body given on the command line are text
  for (const auto& [k, v] : o.headers) req.headers.emplace_back(k, Template::Literal(v));
  if (!o.body.empty()) {
    req.body_kind = RequestStep::Body::kRaw;
    req.body = Template::Literal(o.body);
  }
  req.timeout = o.timeout;

  ScenarioDef s;
  s.name = "quick";
  const int64_t vus = static_cast<int64_t>(o.connections) * (o.h2 ? o.streams : 1);
  s.graceful_stop = o.grace;
  s.duration = o.duration;
  if (o.rate > 0) {
    s.executor = ExecutorKind::kConstantArrivalRate;
    s.rate = o.rate;
    s.time_unit = kSecond;
    s.pre_allocated_vus = vus;
    s.max_vus = vus;
    s.queue_arrivals = true;
  } else {
    s.executor = ExecutorKind::kConstantVus;
    s.vus = vus;
  }
  Step step;
  step.body = std::move(req);
  s.flow.push_back(std::move(step));
  def.scenarios.push_back(std::move(s));
  return def;
}

}  // namespace loadcell
