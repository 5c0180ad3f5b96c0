// The OpenAPI 3 description of /api/v1, served at /api/openapi.json. Kept beside the
// routes: test_serve.py checks that every route the server answers is described here.
#include <nlohmann/json.hpp>

#include "service/service.h"

namespace loadcell {
namespace {

using nlohmann::json;

json Ref(const char* schema) { return {{"$ref", std::string("#/components/schemas/") + schema}}; }

json Answer(const char* description, const json& schema = nullptr, const char* type = "application/json") {
  json r = {{"description", description}};
  if (!schema.is_null()) r["content"] = {{type, {{"schema", schema}}}};
  return r;
}

json Errors(std::initializer_list<int> codes) {
  json out = json::object();
  for (int c : codes) {
    const char* d = c == 400   ? "invalid input (the message says what)"
                    : c == 401 ? "missing or invalid token"
                    : c == 404 ? "not found"
                    : c == 409 ? "conflicts with the current state"
                    : c == 413 ? "body too large"
                    : c == 429 ? "too many runs queued"
                               : "error";
    out[std::to_string(c)] = Answer(d, Ref("Error"));
  }
  return out;
}

json Op(const char* summary, json responses, json body = nullptr, json params = json::array()) {
  json op = {{"summary", summary}, {"responses", std::move(responses)}};
  if (!body.is_null())
    op["requestBody"] = {{"required", true}, {"content", {{"application/json", {{"schema", body}}}}}};
  if (!params.empty()) op["parameters"] = params;
  return op;
}

json With(json ok, std::initializer_list<int> errors) {
  json e = Errors(errors);
  e.update(ok);
  return e;
}

json IdParam() {
  return json::array({{{"name", "id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "integer"}}}}});
}
json Query(const char* name, const char* type, const char* description) {
  return {
      {"name", name}, {"in", "query"}, {"required", false}, {"schema", {{"type", type}}}, {"description", description}};
}
json Obj(json props, json required = json::array()) {
  json o = {{"type", "object"}, {"properties", std::move(props)}};
  if (!required.empty()) o["required"] = required;
  return o;
}
json Str() { return {{"type", "string"}}; }
json Int() { return {{"type", "integer"}}; }
json Num() { return {{"type", "number"}}; }
json Arr(json items) { return {{"type", "array"}, {"items", std::move(items)}}; }

json Build() {
  json paths;
  paths["/api/v1/status"]["get"] =
      Op("Server status: version, database, active runs", With({{"200", Answer("status", Obj({}))}}, {401}));
  paths["/api/v1/tests"]["get"] =
      Op("List stored tests", With({{"200", Answer("tests", Obj({{"tests", Arr(Ref("Test"))}}))}}, {401}));
  paths["/api/v1/tests"]["post"] =
      Op("Store a test definition (validated)", With({{"201", Answer("created", Ref("Test"))}}, {400, 401, 409, 413}),
         Obj({{"name", Str()},
              {"yaml", Str()},
              {"files", {{"type", "object"}, {"description", "data files by relative name: their text"}}}},
             {"name", "yaml"}));
  paths["/api/v1/tests/validate"]["post"] =
      Op("Validate a test definition: errors with line and column",
         With({{"200", Answer("outcome", Ref("Validation"))}}, {400, 401}),
         Obj({{"yaml", Str()},
              {"files", {{"type", "object"}, {"description", "data files by relative name: their text"}}}},
             {"yaml"}));
  paths["/api/v1/tests/{id}"]["get"] =
      Op("Get a stored test", With({{"200", Answer("test", Ref("Test"))}}, {401, 404}), nullptr, IdParam());
  paths["/api/v1/tests/{id}"]["put"] = Op(
      "Update a test's name and/or definition", With({{"200", Answer("updated", Ref("Test"))}}, {400, 401, 404, 409}),
      Obj({{"name", Str()},
           {"yaml", Str()},
           {"files", {{"type", "object"}, {"description", "data files by relative name: their text"}}}}),
      IdParam());
  paths["/api/v1/tests/{id}"]["delete"] = Op("Delete a test (409 while a run of it is queued or running)",
                                             With({{"204", Answer("deleted")}}, {401, 404, 409}), nullptr, IdParam());
  paths["/api/v1/tests/{id}/history"]["get"] =
      Op("Finished runs of a test: p95, throughput, error rate, change points",
         With({{"200", Answer("history", Ref("History"))}}, {401, 404}), nullptr, IdParam());
  json run_params = json::array({Query("status", "string", "queued|running|passed|failed|aborted|error"),
                                 Query("test_id", "integer", "runs of this stored test"),
                                 Query("limit", "integer", "at most this many (1-1000, default 50)"),
                                 Query("offset", "integer", "skip this many (newest first)")});
  paths["/api/v1/runs"]["get"] =
      Op("List runs, newest first", With({{"200", Answer("runs", Obj({{"runs", Arr(Ref("Run"))}}))}}, {400, 401}),
         nullptr, run_params);
  paths["/api/v1/runs"]["post"] =
      Op("Start a run of a test given inline or stored, with overrides",
         With({{"201", Answer("queued", Obj({{"id", Int()}, {"status", Str()}}))}}, {400, 401, 404, 413, 429}),
         Obj({{"test", Str()},
              {"test_id", Int()},
              {"files", {{"type", "object"}, {"description", "data files by relative name: their text"}}},
              {"overrides", Obj({{"vus", Int()}, {"duration", Str()}, {"env", {{"type", "object"}}}})}}));
  paths["/api/v1/runs/{id}"]["get"] = Op("A run: status and, while it runs, a live snapshot",
                                         With({{"200", Answer("run", Ref("Run"))}}, {401, 404}), nullptr, IdParam());
  paths["/api/v1/runs/{id}/results"]["get"] =
      Op("The run's results document (loadcell.results/v1; metrics as in the summary export)",
         With({{"200", Answer("results", {{"type", "object"}})}}, {401, 404, 409}), nullptr, IdParam());
  paths["/api/v1/runs/{id}/report"]["get"] =
      Op("The run's HTML report (while it runs: of what it measured so far)",
         With({{"200", Answer("report", Str(), "text/html")}}, {401, 404, 409}), nullptr, IdParam());
  paths["/api/v1/runs/{id}/abort"]["post"] =
      Op("Abort a queued or running run (it writes its results and ends aborted)",
         With({{"202", Answer("aborting", Obj({{"id", Int()}, {"status", Str()}}))}}, {401, 404, 409}), nullptr,
         IdParam());
  json cmp_params = IdParam();
  cmp_params.push_back({{"name", "baseline"}, {"in", "query"}, {"required", true}, {"schema", Int()}});
  paths["/api/v1/runs/{id}/compare"]["get"] =
      Op("Compare the run with a baseline run (loadcell compare's JSON)",
         With({{"200", Answer("comparison", {{"type", "object"}})}}, {400, 401, 404, 409}), nullptr, cmp_params);
  paths["/api/v1/templates"]["get"] =
      Op("Built-in templates and their parameters",
         With({{"200", Answer("templates", Obj({{"templates", Arr(Ref("Template"))}}))}}, {401}));
  json tpl_param = json::array({{{"name", "name"}, {"in", "path"}, {"required", true}, {"schema", Str()}}});
  paths["/api/v1/templates/{name}"]["post"] =
      Op("Instantiate a template (stored as a test when save_as is given)",
         With({{"200", Answer("yaml", Obj({{"yaml", Str()}}))}, {"201", Answer("stored", {{"type", "object"}})}},
              {400, 401, 404, 409}),
         Obj({{"params", {{"type", "object"}}}, {"save_as", Str()}}), tpl_param);
  paths["/api/v1/alerts/rules"]["get"] =
      Op("List alert rules", With({{"200", Answer("rules", Obj({{"rules", Arr(Ref("AlertRule"))}}))}}, {401}));
  paths["/api/v1/alerts/rules"]["post"] = Op("Create an alert rule: alert when the condition holds on a run's metric",
                                             With({{"201", Answer("created", Ref("AlertRule"))}}, {400, 401, 404}),
                                             Obj({{"name", Str()},
                                                  {"metric", Str()},
                                                  {"condition", Str()},
                                                  {"severity", Str()},
                                                  {"cooldown_s", Num()},
                                                  {"test_id", Int()}},
                                                 {"name", "metric", "condition"}));
  paths["/api/v1/alerts/rules/{id}"]["get"] =
      Op("Get an alert rule", With({{"200", Answer("rule", Ref("AlertRule"))}}, {401, 404}), nullptr, IdParam());
  paths["/api/v1/alerts/rules/{id}"]["delete"] =
      Op("Delete an alert rule", With({{"204", Answer("deleted")}}, {401, 404}), nullptr, IdParam());
  paths["/api/v1/alerts"]["get"] =
      Op("Alert events, newest first",
         With({{"200", Answer("alerts", Obj({{"alerts", Arr(Ref("Alert"))}}))}}, {400, 401}), nullptr,
         json::array({Query("status", "string", "open|acknowledged|resolved"),
                      Query("run_id", "integer", "raised by this run")}));
  paths["/api/v1/alerts/{id}"]["get"] =
      Op("Get an alert event", With({{"200", Answer("alert", Ref("Alert"))}}, {401, 404}), nullptr, IdParam());
  paths["/api/v1/alerts/{id}/acknowledge"]["post"] = Op(
      "Acknowledge an open alert", With({{"200", Answer("alert", Ref("Alert"))}}, {401, 404, 409}), nullptr, IdParam());
  paths["/api/v1/alerts/{id}/resolve"]["post"] =
      Op("Resolve an alert", With({{"200", Answer("alert", Ref("Alert"))}}, {401, 404, 409}), nullptr, IdParam());
  json sched_body = Obj({{"test_id", Int()}, {"cron", Str()}, {"enabled", {{"type", "boolean"}}}});
  paths["/api/v1/schedules"]["get"] =
      Op("List schedules", With({{"200", Answer("schedules", Obj({{"schedules", Arr(Ref("Schedule"))}}))}}, {401}));
  paths["/api/v1/schedules"]["post"] =
      Op("Schedule a stored test (5-field cron, UTC; @hourly, @daily, @every D)",
         With({{"201", Answer("created", Ref("Schedule"))}}, {400, 401, 404}), sched_body);
  paths["/api/v1/schedules/{id}"]["get"] =
      Op("Get a schedule", With({{"200", Answer("schedule", Ref("Schedule"))}}, {401, 404}), nullptr, IdParam());
  paths["/api/v1/schedules/{id}"]["put"] =
      Op("Change a schedule's cron or enabled", With({{"200", Answer("schedule", Ref("Schedule"))}}, {400, 401, 404}),
         sched_body, IdParam());
  paths["/api/v1/schedules/{id}"]["delete"] =
      Op("Delete a schedule", With({{"204", Answer("deleted")}}, {401, 404}), nullptr, IdParam());
  paths["/api/v1/schedules/{id}/trigger"]["post"] =
      Op("Fire a schedule now, as the scheduler would",
         With({{"201", Answer("queued", Obj({{"id", Int()}, {"status", Str()}}))}}, {401, 404}), nullptr, IdParam());

  json schemas;
  schemas["Error"] = Obj({{"error", Str()}}, {"error"});
  schemas["Test"] = Obj(
      {{"id", Int()}, {"name", Str()}, {"yaml", Str()}, {"files", Arr(Str())}, {"created", Num()}, {"updated", Num()}});
  schemas["Validation"] = Obj({{"valid", {{"type", "boolean"}}},
                               {"errors", Arr(Obj({{"line", Int()}, {"column", Int()}, {"message", Str()}}))}});
  schemas["Run"] =
      Obj({{"id", Int()},
           {"test_id", Int()},
           {"schedule_id", Int()},
           {"test_name", Str()},
           {"status", {{"type", "string"}, {"enum", {"queued", "running", "passed", "failed", "aborted", "error"}}}},
           {"trigger", Str()},
           {"created", Num()},
           {"started", Num()},
           {"finished", Num()},
           {"exit_code", Int()},
           {"message", Str()},
           {"interrupted", {{"type", "boolean"}}},
           {"summary", {{"type", "object"}}},
           {"live", {{"type", "object"}}}});
  schemas["History"] =
      Obj({{"test_id", Int()}, {"runs", Arr({{"type", "object"}})}, {"change_points", {{"type", "object"}}}});
  schemas["Template"] = Obj({{"name", Str()}, {"description", Str()}, {"params", Arr({{"type", "object"}})}});
  schemas["AlertRule"] = Obj({{"id", Int()},
                              {"name", Str()},
                              {"metric", Str()},
                              {"condition", Str()},
                              {"severity", Str()},
                              {"cooldown_s", Num()},
                              {"test_id", Int()}});
  schemas["Alert"] = Obj({{"id", Int()},
                          {"rule_id", Int()},
                          {"run_id", Int()},
                          {"test_id", Int()},
                          {"kind", {{"type", "string"}, {"enum", {"threshold", "rule", "regression", "leak"}}}},
                          {"severity", Str()},
                          {"message", Str()},
                          {"status", Str()},
                          {"created", Num()}});
  schemas["Schedule"] = Obj({{"id", Int()},
                             {"test_id", Int()},
                             {"cron", Str()},
                             {"enabled", {{"type", "boolean"}}},
                             {"next_run", Num()},
                             {"last_run_id", Int()}});
  return {{"openapi", "3.0.3"},
          {"info", {{"title", "loadcell service API"}, {"version", LOADCELL_VERSION}}},
          {"servers", json::array({{{"url", "/"}}})},
          {"security", json::array({{{"bearer", json::array()}}})},
          {"paths", paths},
          {"components",
           {{"schemas", schemas}, {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}}};
}

}  // namespace

const json& OpenApiDocument() {
  static const json kDoc = Build();
  return kDoc;
}

}  // namespace loadcell
