// /api/v1/alerts: rules (metric, condition, severity, cooldown, optional test) and the
// events finished runs raised, acknowledged and resolved by people.
#include <fmt/format.h>

#include "service/alerts.h"
#include "service/api_util.h"
#include "service/service.h"

namespace loadcell {
namespace {

using nlohmann::json;

json Opt(const std::optional<int64_t>& v) { return v.has_value() ? json(*v) : json(nullptr); }
json Time(double t) { return t > 0 ? json(t) : json(nullptr); }

json RuleJson(const AlertRule& r) {
  return {{"id", r.id},
          {"name", r.name},
          {"metric", r.metric},
          {"condition", r.condition},
          {"severity", r.severity},
          {"cooldown_s", r.cooldown_s},
          {"test_id", Opt(r.test_id)},
          {"created", r.created}};
}

json EventJson(const AlertEvent& e) {
  return {{"id", e.id},
          {"rule_id", Opt(e.rule_id)},
          {"run_id", Opt(e.run_id)},
          {"test_id", Opt(e.test_id)},
          {"kind", e.kind},
          {"severity", e.severity},
          {"message", e.message},
          {"status", e.status},
          {"created", e.created},
          {"acknowledged", Time(e.acknowledged)},
          {"resolved", Time(e.resolved)}};
}

// acknowledge: open → acknowledged; resolve: open or acknowledged → resolved.
void Transition(Service& s, const http::Request& req, http::Response& res, const std::string& to) {
  int64_t id = api::PathId(req);
  auto e = api::Found(s.store().GetEvent(id), "alert", id, res);
  if (!e) return;
  const std::string& from = e->status;
  if (from == "resolved" || (to == "acknowledged" && from != "open")) {
    return api::Fail(res, 409, fmt::format("alert {} is {}: it cannot be {}", id, from, to));
  }
  Status st = s.store().SetEventStatus(id, to, UnixNow());
  if (!st.ok()) return api::Fail(res, 500, st.error().message);
  auto now = s.store().GetEvent(id);
  api::Json(res, EventJson(now.ok() && now->has_value() ? **now : *e));
}

}  // namespace

void AddAlertRoutes(http::Server& http, Service& s) {
  http.Post("/api/v1/alerts/rules", [&s](const http::Request& req, http::Response& res) {
    auto body = api::Body(req, res);
    if (!body) return;
    AlertRule r;
    bool failed = false;
    r.name = api::StringField(*body, "name", res, &failed).value_or("");
    if (!failed) r.metric = api::StringField(*body, "metric", res, &failed).value_or("");
    if (!failed) r.condition = api::StringField(*body, "condition", res, &failed).value_or("");
    if (!failed) r.severity = api::StringField(*body, "severity", res, &failed).value_or("warning");
    if (failed) return;
    if (r.metric.empty()) return api::Fail(res, 400, "metric: required (e.g. http_req_duration)");
    if (r.condition.empty()) return api::Fail(res, 400, "condition: required (e.g. p(95)>500: alert when it holds)");
    if (body->contains("cooldown_s")) {
      if (!(*body)["cooldown_s"].is_number()) return api::Fail(res, 400, "cooldown_s: expected a number of seconds");
      r.cooldown_s = (*body)["cooldown_s"].get<double>();
    }
    if (body->contains("test_id") && !(*body)["test_id"].is_null()) {
      if (!(*body)["test_id"].is_number_integer()) return api::Fail(res, 400, "test_id: expected an integer");
      r.test_id = (*body)["test_id"].get<int64_t>();
      if (!api::Found(s.store().GetTest(*r.test_id), "test", *r.test_id, res)) return;
    }
    if (Status v = ValidateRule(r); !v.ok()) return api::Fail(res, 400, v.error().message);
    auto made = s.store().CreateRule(r);
    if (!made.ok()) return api::Fail(res, 500, made.error().message);
    api::Json(res, RuleJson(*made), 201);
  });

  http.Get("/api/v1/alerts/rules", [&s](const http::Request&, http::Response& res) {
    api::List(res, s.store().ListRules(), "rules", RuleJson);
  });

  http.Get(R"(/api/v1/alerts/rules/(\d+))", [&s](const http::Request& req, http::Response& res) {
    int64_t id = api::PathId(req);
    if (auto r = api::Found(s.store().GetRule(id), "alert rule", id, res)) api::Json(res, RuleJson(*r));
  });

  http.Delete(R"(/api/v1/alerts/rules/(\d+))", [&s](const http::Request& req, http::Response& res) {
    int64_t id = api::PathId(req);
    if (!api::Found(s.store().GetRule(id), "alert rule", id, res)) return;
    Status st = s.store().DeleteRule(id);
    if (!st.ok()) return api::Fail(res, 500, st.error().message);
    res.status = 204;
  });

  http.Get("/api/v1/alerts", [&s](const http::Request& req, http::Response& res) {
    std::string status = req.Param("status");
    if (!status.empty() && status != "open" && status != "acknowledged" && status != "resolved") {
      return api::Fail(res, 400, fmt::format("status: \"{}\" is not one of open, acknowledged, resolved", status));
    }
    bool bad = false;
    auto run_id = api::QueryInt(req, "run_id", &bad);
    if (bad) return api::Fail(res, 400, "run_id: expected an integer");
    api::List(res, s.store().ListEvents(status, run_id), "alerts", EventJson);
  });

  http.Get(R"(/api/v1/alerts/(\d+))", [&s](const http::Request& req, http::Response& res) {
    int64_t id = api::PathId(req);
    if (auto e = api::Found(s.store().GetEvent(id), "alert", id, res)) api::Json(res, EventJson(*e));
  });

  http.Post(R"(/api/v1/alerts/(\d+)/acknowledge)",
            [&s](const http::Request& req, http::Response& res) { Transition(s, req, res, "acknowledged"); });
  http.Post(R"(/api/v1/alerts/(\d+)/resolve)",
            [&s](const http::Request& req, http::Response& res) { Transition(s, req, res, "resolved"); });
}

}  // namespace loadcell
