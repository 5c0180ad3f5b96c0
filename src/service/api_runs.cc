// /api/v1/runs: start a run (a test posted inline or a stored one, with overrides), list
// and follow runs, their results document, HTML report, abort, and the comparison of two.
#include <fmt/format.h>

#include "analysis/compare.h"
#include "output/results_file.h"
#include "report/report.h"
#include "scenario/loader.h"
#include "service/api_util.h"
#include "service/service.h"

namespace loadcell {
namespace {

using nlohmann::json;

constexpr int64_t kMaxQueued = 100;
const char* const kStatuses[] = {"queued", "running", "passed", "failed", "aborted", "error"};

// A run's overrides as the API shows them: uploaded files by name, not content.
json OverridesShown(const std::string& stored) {
  json o = json::parse(stored, nullptr, false);
  if (o.is_object() && o.contains("files") && o["files"].is_object()) {
    json names = json::array();
    for (const auto& [name, _] : o["files"].items()) names.push_back(name);
    o["files"] = names;
  }
  return o;
}

json RunJson(const RunRecord& r, bool with_yaml) {
  json j = {{"id", r.id},
            {"test_id", r.test_id.has_value() ? json(*r.test_id) : json(nullptr)},
            {"schedule_id", r.schedule_id.has_value() ? json(*r.schedule_id) : json(nullptr)},
            {"test_name", r.test_name},
            {"status", r.status},
            {"trigger", r.trigger},
            {"created", r.created},
            {"started", r.started > 0 ? json(r.started) : json(nullptr)},
            {"finished", r.finished > 0 ? json(r.finished) : json(nullptr)},
            {"exit_code", r.exit_code >= 0 ? json(r.exit_code) : json(nullptr)},
            {"message", r.message},
            {"interrupted", r.interrupted},
            {"overrides", OverridesShown(r.overrides)},
            {"has_results", r.has_results}};
  if (r.has_results) {
    j["summary"] = {{"reqs", r.reqs},     {"rate", r.rate},     {"error_rate", r.error_rate}, {"p50_ms", r.p50_ms},
                    {"p95_ms", r.p95_ms}, {"p99_ms", r.p99_ms}, {"duration_s", r.duration_s}};
  }
  if (with_yaml) j["yaml"] = r.yaml;
  return j;
}

std::optional<RunRecord> Find(Service& s, int64_t id, http::Response& res) {
  return api::Found(s.store().GetRun(id), "run", id, res);
}

// A run's results document; answers 409 (not finished, or ended without results) or 500 itself.
std::optional<std::string> ResultsText(Service& s, const RunRecord& run, http::Response& res) {
  auto text = s.store().RunResultsJson(run.id);
  if (!text.ok()) {
    api::Fail(res, 500, text.error().message);
    return std::nullopt;
  }
  if (!text->has_value()) {
    api::Fail(res, 409,
              run.status == "queued" || run.status == "running"
                  ? fmt::format("run {} is {}: its results come when it ends", run.id, run.status)
                  : fmt::format("run {} ended without results ({})", run.id, run.message));
    return std::nullopt;
  }
  return **text;
}

// The same, parsed.
std::optional<RunResults> Results(Service& s, const RunRecord& run, http::Response& res) {
  auto text = ResultsText(s, run, res);
  if (!text) return std::nullopt;
  auto parsed = ParseResults(*text, fmt::format("run {}", run.id));
  if (!parsed.ok()) {
    api::Fail(res, 500, parsed.error().message);
    return std::nullopt;
  }
  return std::move(parsed).value();
}

}  // namespace

void AddRunRoutes(http::Server& http, Service& s) {
  http.Post("/api/v1/runs", [&s](const http::Request& req, http::Response& res) {
    auto body = api::Body(req, res);
    if (!body) return;
    bool has_test = body->contains("test"), has_id = body->contains("test_id");
    if (has_test == has_id)
      return api::Fail(res, 400, "give either \"test\" (a test definition in YAML) or \"test_id\"");
    json overrides = body->value("overrides", json::object());
    auto args = OverrideArgs(overrides);
    if (!args.ok()) return api::Fail(res, 400, args.error().message);
    // Data files come with the run ({"files": {"users.csv": "id,name\n..."}}) or with its
    // stored test; the run's own win over the test's of the same name.
    auto given = api::FilesField(*body, res);
    if (!given) return;
    std::map<std::string, std::string> files;
    std::string yaml, name;
    std::optional<int64_t> test_id;
    if (has_test) {
      if (!(*body)["test"].is_string())
        return api::Fail(res, 400, "test: expected the test definition as a YAML string");
      yaml = (*body)["test"].get<std::string>();
    } else {
      if (!(*body)["test_id"].is_number_integer()) return api::Fail(res, 400, "test_id: expected an integer");
      auto t = s.store().GetTest((*body)["test_id"].get<int64_t>());
      if (!t.ok()) return api::Fail(res, 500, t.error().message);
      if (!t->has_value())
        return api::Fail(res, 404, fmt::format("no test with id {}", (*body)["test_id"].get<int64_t>()));
      yaml = (*t)->yaml;
      name = (*t)->name;
      test_id = (*t)->id;
      files = api::FilesOf((*t)->files);
    }
    for (auto& [fname, content] : *given) files[fname] = std::move(content);
    auto def = LoadTestText(yaml, "test.yaml", ServeLoadOptions(overrides, &files));
    if (!def.ok()) return api::Fail(res, 400, "invalid test definition: " + def.error().message);
    if (!files.empty()) overrides["files"] = files;
    if (name.empty()) name = def->name.empty() ? "inline" : def->name;
    auto active = s.store().ActiveRuns(std::nullopt);
    if (active.ok() && *active >= kMaxQueued + s.options().max_concurrent_runs) {
      return api::Fail(res, 429,
                       fmt::format("{} runs are queued or running: try again when some have finished", *active));
    }
    auto id = s.QueueRun(name, yaml, test_id, std::nullopt, overrides.dump());
    if (!id.ok()) return api::Fail(res, 500, id.error().message);
    res.SetHeader("Location", fmt::format("/api/v1/runs/{}", *id));
    api::Json(res, {{"id", *id}, {"status", "queued"}}, 201);
  });

  http.Get("/api/v1/runs", [&s](const http::Request& req, http::Response& res) {
    RunFilter f;
    bool bad = false;
    f.status = req.Param("status");
    if (!f.status.empty() && std::find(std::begin(kStatuses), std::end(kStatuses), f.status) == std::end(kStatuses)) {
      return api::Fail(
          res, 400,
          fmt::format("status: \"{}\" is not one of queued, running, passed, failed, aborted, error", f.status));
    }
    f.test_id = api::QueryInt(req, "test_id", &bad);
    if (bad) return api::Fail(res, 400, "test_id: expected an integer");
    f.limit = api::QueryInt(req, "limit", &bad).value_or(50);
    if (bad || f.limit < 1 || f.limit > 1000) return api::Fail(res, 400, "limit: expected an integer from 1 to 1000");
    f.offset = api::QueryInt(req, "offset", &bad).value_or(0);
    if (bad || f.offset < 0) return api::Fail(res, 400, "offset: expected a non-negative integer");
    auto runs = s.store().ListRuns(f);
    if (!runs.ok()) return api::Fail(res, 500, runs.error().message);
    json out = json::array();
    for (const RunRecord& r : *runs) out.push_back(RunJson(r, false));
    api::Json(res, {{"runs", out}});
  });

  http.Get(R"(/api/v1/runs/(\d+))", [&s](const http::Request& req, http::Response& res) {
    auto run = Find(s, api::PathId(req), res);
    if (!run) return;
    json j = RunJson(*run, true);
    if (run->status == "running") {
      auto live = s.runs().Snapshot(run->id);
      if (live.has_value()) j["live"] = *live;
    }
    api::Json(res, j);
  });

  http.Get(R"(/api/v1/runs/(\d+)/results)", [&s](const http::Request& req, http::Response& res) {
    auto run = Find(s, api::PathId(req), res);
    if (!run) return;
    if (auto text = ResultsText(s, *run, res)) res.SetContent(*text, "application/json");
  });

  http.Get(R"(/api/v1/runs/(\d+)/report)", [&s](const http::Request& req, http::Response& res) {
    auto run = Find(s, api::PathId(req), res);
    if (!run) return;
    if (run->status == "running") {
      // The report of what the run measured so far: the web UI's live view.
      auto partial = s.runs().Partial(run->id);
      if (partial.has_value()) return res.SetContent(HtmlReport(*partial), "text/html; charset=utf-8");
    }
    auto results = Results(s, *run, res);
    if (!results) return;
    res.SetContent(HtmlReport(*results), "text/html; charset=utf-8");
  });

  http.Post(R"(/api/v1/runs/(\d+)/abort)", [&s](const http::Request& req, http::Response& res) {
    auto run = Find(s, api::PathId(req), res);
    if (!run) return;
    if ((run->status != "queued" && run->status != "running") || !s.runs().Abort(run->id)) {
      return api::Fail(res, 409, fmt::format("run {} is {}: nothing to abort", run->id, run->status));
    }
    auto now = s.store().GetRun(run->id);
    api::Json(res, {{"id", run->id}, {"status", now.ok() && now->has_value() ? (*now)->status : run->status}}, 202);
  });

  http.Get(R"(/api/v1/runs/(\d+)/compare)", [&s](const http::Request& req, http::Response& res) {
    bool bad = false;
    auto base_id = api::QueryInt(req, "baseline", &bad);
    if (bad || !base_id)
      return api::Fail(res, 400, "baseline: the id of the run to compare with is required (?baseline=ID)");
    auto run = Find(s, api::PathId(req), res);
    if (!run) return;
    auto base = Find(s, *base_id, res);
    if (!base) return;
    auto current = Results(s, *run, res);
    if (!current) return;
    auto baseline = Results(s, *base, res);
    if (!baseline) return;
    Comparison c = CompareRuns(*baseline, *current, CompareOptions{});
    c.baseline_name = fmt::format("run {}", base->id);
    c.current_name = fmt::format("run {}", run->id);
    json j = ComparisonJson(c);
    j["baseline_id"] = base->id;
    j["current_id"] = run->id;
    api::Json(res, j);
  });
}

}  // namespace loadcell
