// /api/v1/tests: stored test definitions (validated on every write), their validation
// alone, and their history (headline numbers of each finished run and change points).
#include <fmt/format.h>

#include "analysis/change_points.h"
#include "scenario/loader.h"
#include "service/api_util.h"
#include "service/service.h"

namespace loadcell {
namespace {

using nlohmann::json;

json TestJson(const StoredTest& t) {
  json files = json::array();  // by name: their text is the test's, not every listing's
  for (const auto& [name, _] : api::FilesOf(t.files)) files.push_back(name);
  return {{"id", t.id},     {"name", t.name},       {"yaml", t.yaml},
          {"files", files}, {"created", t.created}, {"updated", t.updated}};
}

// The loader's "FILE:LINE:COL: message" lines as objects.
json ValidationErrors(const std::string& message) {
  json errors = json::array();
  size_t start = 0;
  while (start < message.size()) {
    size_t end = message.find('\n', start);
    std::string line = message.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? message.size() : end + 1;
    if (line.empty()) continue;
    json e = {{"message", line}};
    // test.yaml:12:5: scenarios.s.vus: …
    size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1),
           c = b == std::string::npos ? b : line.find(':', b + 1);
    if (c != std::string::npos) {
      try {
        e["line"] = std::stoi(line.substr(a + 1, b - a - 1));
        e["column"] = std::stoi(line.substr(b + 1, c - b - 1));
        e["message"] = line.substr(c + 2 <= line.size() ? c + 2 : c + 1);
      } catch (const std::exception&) {
      }
    }
    errors.push_back(std::move(e));
  }
  return errors;
}

// Validates `yaml` with the files stored beside it; on failure answers 400 with the errors
// and returns false.
bool Validate(const std::string& yaml, const std::map<std::string, std::string>& files, http::Response& res) {
  auto def = LoadTestText(yaml, "test.yaml", ServeLoadOptions({}, &files));
  if (def.ok()) return true;
  api::Json(
      res,
      {{"error", "invalid test definition: " + def.error().message}, {"errors", ValidationErrors(def.error().message)}},
      400);
  return false;
}

std::optional<StoredTest> Find(Service& s, const http::Request& req, http::Response& res) {
  int64_t id = api::PathId(req);
  return api::Found(s.store().GetTest(id), "test", id, res);
}

// A test body's `name` and `yaml`, each optional; false (answered) when one is not a string.
bool NameAndYaml(const json& body, http::Response& res, std::optional<std::string>* name,
                 std::optional<std::string>* yaml) {
  bool failed = false;
  *name = api::StringField(body, "name", res, &failed);
  if (!failed) *yaml = api::StringField(body, "yaml", res, &failed);
  return !failed;
}

}  // namespace

bool TestNameFree(Service& s, const std::string& name, int64_t except_id, http::Response& res) {
  auto other = s.store().FindTest(name);
  if (!other.ok()) return api::Fail(res, 500, other.error().message), false;
  if (other->has_value() && (*other)->id != except_id) {
    return api::Fail(res, 409, fmt::format("a test named \"{}\" exists (id {})", name, (*other)->id)), false;
  }
  return true;
}

void AddTestRoutes(http::Server& http, Service& s) {
  http.Post("/api/v1/tests/validate", [](const http::Request& req, http::Response& res) {
    auto body = api::Body(req, res);
    if (!body) return;
    bool failed = false;
    auto yaml = api::StringField(*body, "yaml", res, &failed);
    if (failed) return;
    if (!yaml) return api::Fail(res, 400, "yaml: required");
    auto files = api::FilesField(*body, res);
    if (!files) return;
    auto def = LoadTestText(*yaml, "test.yaml", ServeLoadOptions({}, &*files));
    if (!def.ok()) return api::Json(res, {{"valid", false}, {"errors", ValidationErrors(def.error().message)}});
    json scenarios = json::array();
    for (const ScenarioDef& sc : def->scenarios)
      scenarios.push_back({{"name", sc.name}, {"executor", ExecutorName(sc.executor)}});
    api::Json(res, {{"valid", true}, {"errors", json::array()}, {"name", def->name}, {"scenarios", scenarios}});
  });

  http.Post("/api/v1/tests", [&s](const http::Request& req, http::Response& res) {
    auto body = api::Body(req, res);
    if (!body) return;
    std::optional<std::string> name, yaml;
    if (!NameAndYaml(*body, res, &name, &yaml)) return;
    if (!name || name->empty()) return api::Fail(res, 400, "name: required");
    if (!yaml) return api::Fail(res, 400, "yaml: required");
    auto files = api::FilesField(*body, res);
    if (!files) return;
    if (!Validate(*yaml, *files, res) || !TestNameFree(s, *name, 0, res)) return;
    auto t = s.store().CreateTest(*name, *yaml, json(*files).dump());
    if (!t.ok()) return api::Fail(res, 500, t.error().message);
    res.SetHeader("Location", fmt::format("/api/v1/tests/{}", t->id));
    api::Json(res, TestJson(*t), 201);
  });

  http.Get("/api/v1/tests", [&s](const http::Request&, http::Response& res) {
    api::List(res, s.store().ListTests(), "tests", TestJson);
  });

  http.Get(R"(/api/v1/tests/(\d+))", [&s](const http::Request& req, http::Response& res) {
    if (auto t = Find(s, req, res)) api::Json(res, TestJson(*t));
  });

  http.Put(R"(/api/v1/tests/(\d+))", [&s](const http::Request& req, http::Response& res) {
    auto t = Find(s, req, res);
    if (!t) return;
    auto body = api::Body(req, res);
    if (!body) return;
    std::optional<std::string> name, yaml;
    if (!NameAndYaml(*body, res, &name, &yaml)) return;
    if (!name && !yaml && !body->contains("files"))
      return api::Fail(res, 400, "nothing to update: give name, yaml and/or files");
    auto files = body->contains("files") ? api::FilesField(*body, res) : std::optional(api::FilesOf(t->files));
    if (!files) return;
    if (name) {
      if (name->empty()) return api::Fail(res, 400, "name: must not be empty");
      if (!TestNameFree(s, *name, t->id, res)) return;
      t->name = *name;
    }
    if (yaml || body->contains("files")) {
      if (!Validate(yaml ? *yaml : t->yaml, *files, res)) return;
      if (yaml) t->yaml = *yaml;
      t->files = json(*files).dump();
    }
    Status st = s.store().UpdateTest(*t);
    if (!st.ok()) return api::Fail(res, 500, st.error().message);
    auto now = s.store().GetTest(t->id);
    api::Json(res, TestJson(now.ok() && now->has_value() ? **now : *t));
  });

  http.Delete(R"(/api/v1/tests/(\d+))", [&s](const http::Request& req, http::Response& res) {
    auto t = Find(s, req, res);
    if (!t) return;
    auto active = s.store().ActiveRuns(t->id);
    if (!active.ok()) return api::Fail(res, 500, active.error().message);
    if (*active > 0) {
      return api::Fail(res, 409,
                       fmt::format("test {} has {} run(s) queued or running: abort them first", t->id, *active));
    }
    Status st = s.store().DeleteTest(t->id);
    if (!st.ok()) return api::Fail(res, 500, st.error().message);
    res.status = 204;
  });

  http.Get(R"(/api/v1/tests/(\d+)/history)", [&s](const http::Request& req, http::Response& res) {
    auto t = Find(s, req, res);
    if (!t) return;
    auto runs = s.store().FinishedRuns(t->id);
    if (!runs.ok()) return api::Fail(res, 500, runs.error().message);
    json rows = json::array();
    std::vector<double> p95, rate, errors;
    for (const RunRecord& r : *runs) {
      rows.push_back({{"id", r.id},
                      {"status", r.status},
                      {"started", r.started},
                      {"trigger", r.trigger},
                      {"reqs", r.reqs},
                      {"p50_ms", r.p50_ms},
                      {"p95_ms", r.p95_ms},
                      {"p99_ms", r.p99_ms},
                      {"rate", r.rate},
                      {"error_rate", r.error_rate}});
      p95.push_back(r.p95_ms);
      rate.push_back(r.rate);
      errors.push_back(r.error_rate);
    }
    auto changes = [&](const std::vector<double>& x) {
      return ChangePointsJson(EDivisive(x), [&](size_t i) { return (*runs)[i].id; });
    };
    api::Json(
        res, {{"test_id", t->id},
              {"name", t->name},
              {"runs", rows},
              {"change_points", {{"p95_ms", changes(p95)}, {"rate", changes(rate)}, {"error_rate", changes(errors)}}}});
  });
}

}  // namespace loadcell
