// /api/v1/schedules: cron schedules of stored tests (service.cc's scheduler fires them),
// and /trigger to fire one now exactly as the scheduler would.
#include <fmt/format.h>

#include "service/api_util.h"
#include "service/cron.h"
#include "service/service.h"

namespace loadcell {
namespace {

using nlohmann::json;

json ScheduleJson(const Schedule& s) {
  return {{"id", s.id},
          {"test_id", s.test_id},
          {"cron", s.cron},
          {"enabled", s.enabled},
          {"created", s.created},
          {"next_run", s.next_run > 0 ? json(s.next_run) : json(nullptr)},
          {"last_run_id", s.last_run_id.has_value() ? json(*s.last_run_id) : json(nullptr)}};
}

std::optional<Schedule> Find(Service& s, const http::Request& req, http::Response& res) {
  int64_t id = api::PathId(req);
  return api::Found(s.store().GetSchedule(id), "schedule", id, res);
}

// cron and enabled from `body` into `s`; false after answering 400.
bool Apply(const json& body, Schedule* s, http::Response& res) {
  if (body.contains("cron")) {
    if (!body["cron"].is_string()) return api::Fail(res, 400, "cron: expected a string such as \"0 3 * * *\""), false;
    auto c = CronSchedule::Parse(body["cron"].get<std::string>());
    if (!c.ok()) return api::Fail(res, 400, c.error().message), false;
    s->cron = body["cron"].get<std::string>();
    s->next_run = c->NextAfter(UnixNow());
  }
  if (body.contains("enabled")) {
    if (!body["enabled"].is_boolean()) return api::Fail(res, 400, "enabled: expected true or false"), false;
    s->enabled = body["enabled"].get<bool>();
  }
  return true;
}

}  // namespace

void AddScheduleRoutes(http::Server& http, Service& s) {
  http.Post("/api/v1/schedules", [&s](const http::Request& req, http::Response& res) {
    auto body = api::Body(req, res);
    if (!body) return;
    if (!body->contains("test_id") || !(*body)["test_id"].is_number_integer()) {
      return api::Fail(res, 400, "test_id: required, the id of a stored test");
    }
    if (!body->contains("cron")) return api::Fail(res, 400, "cron: required (e.g. \"0 3 * * *\" or \"@every 1h\")");
    Schedule sc;
    sc.test_id = (*body)["test_id"].get<int64_t>();
    if (!api::Found(s.store().GetTest(sc.test_id), "test", sc.test_id, res) || !Apply(*body, &sc, res)) return;
    auto made = s.store().CreateSchedule(sc);
    if (!made.ok()) return api::Fail(res, 500, made.error().message);
    api::Json(res, ScheduleJson(*made), 201);
  });

  http.Get("/api/v1/schedules", [&s](const http::Request&, http::Response& res) {
    api::List(res, s.store().ListSchedules(), "schedules", ScheduleJson);
  });

  http.Get(R"(/api/v1/schedules/(\d+))", [&s](const http::Request& req, http::Response& res) {
    if (auto sc = Find(s, req, res)) api::Json(res, ScheduleJson(*sc));
  });

  http.Put(R"(/api/v1/schedules/(\d+))", [&s](const http::Request& req, http::Response& res) {
    auto sc = Find(s, req, res);
    if (!sc) return;
    auto body = api::Body(req, res);
    if (!body) return;
    if (!Apply(*body, &*sc, res)) return;
    Status st = s.store().UpdateSchedule(*sc);
    if (!st.ok()) return api::Fail(res, 500, st.error().message);
    api::Json(res, ScheduleJson(*sc));
  });

  http.Delete(R"(/api/v1/schedules/(\d+))", [&s](const http::Request& req, http::Response& res) {
    auto sc = Find(s, req, res);
    if (!sc) return;
    Status st = s.store().DeleteSchedule(sc->id);
    if (!st.ok()) return api::Fail(res, 500, st.error().message);
    res.status = 204;
  });

  http.Post(R"(/api/v1/schedules/(\d+)/trigger)", [&s](const http::Request& req, http::Response& res) {
    auto sc = Find(s, req, res);
    if (!sc) return;
    auto t = s.store().GetTest(sc->test_id);
    if (!t.ok()) return api::Fail(res, 500, t.error().message);
    if (!t->has_value())
      return api::Fail(res, 404, fmt::format("schedule {}: its test {} is gone", sc->id, sc->test_id));
    auto id = s.QueueRun((*t)->name, (*t)->yaml, sc->test_id, sc->id, StoredTestOverrides(**t));
    if (!id.ok()) return api::Fail(res, 500, id.error().message);
    sc->last_run_id = *id;
    (void)s.store().UpdateSchedule(*sc);
    api::Json(res, {{"id", *id}, {"status", "queued"}}, 201);
  });
}

}  // namespace loadcell
