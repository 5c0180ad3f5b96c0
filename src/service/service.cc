#include "service/service.h"

#include <arpa/inet.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include "net/http_server.h"

#include "net/listen.h"
#include "output/results_file.h"
#include "service/alerts.h"
#include "service/api_util.h"
#include "service/cron.h"
#include "service/web_ui.h"

namespace loadcell {

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

namespace {

// A loopback address as written, not a name that merely starts like one
// ("127.evil.invalid" resolves wherever its owner likes).
bool IsLoopback(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr a{};
  return inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t b = s.find_first_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b);
}

}  // namespace

Service::Service(Options options) : options_(std::move(options)) {}

Service::~Service() {
  if (http_) http_->Stop();
  if (runs_) runs_->Shutdown();
}

Status Service::Start(std::string* new_token) {
  std::string host;
  int want = 0;
  if (!SplitHostPort(options_.listen, &host, &want)) {
    return Error::InvalidArgument(
        fmt::format("--listen {}: expected HOST:PORT (e.g. 127.0.0.1:8686)", options_.listen));
  }
  if (!IsLoopback(host) && options_.token_file.empty()) {
    return Error::InvalidArgument(
        fmt::format("--listen {}: a non-loopback address needs --token-file (a generated token would be printed where "
                    "others may see it)",
                    options_.listen));
  }
  if (options_.max_concurrent_runs < 1) return Error::InvalidArgument("--max-concurrent-runs: must be at least 1");

  auto db = OpenSqlDb(options_.db);
  if (!db.ok()) return db.error();
  bool sqlite = (*db)->dialect() == SqlDb::Dialect::kSqlite;
  auto store = Store::Open(std::move(db).value());
  if (!store.ok()) return store.error();
  store_ = std::move(store).value();

  if (!options_.token_file.empty()) {
    std::ifstream in(options_.token_file);
    if (!in) return Error::Io(fmt::format("--token-file {}: cannot read it", options_.token_file));
    for (std::string line; std::getline(in, line);) {
      line = Trim(line);
      if (line.empty() || line[0] == '#') continue;
      if (line.size() < 16)
        return Error::InvalidArgument(
            fmt::format("--token-file {}: a token shorter than 16 characters", options_.token_file));
      token_hashes_.push_back(Sha256Hex(line));
    }
    if (token_hashes_.empty())
      return Error::InvalidArgument(fmt::format("--token-file {}: no token in it", options_.token_file));
  } else {
    auto stored = store_->GetSetting("token_sha256");
    if (!stored.ok()) return stored.error();
    if (stored->has_value()) {
      token_hashes_.push_back(**stored);
    } else {
      unsigned char raw[24];
      if (RAND_bytes(raw, sizeof raw) != 1) return Error::Internal("cannot generate a token: no randomness");
      std::string token = "lc_";
      for (unsigned char c : raw) token += fmt::format("{:02x}", c);
      Status s = store_->SetSetting("token_sha256", Sha256Hex(token));
      if (!s.ok()) return s;
      token_hashes_.push_back(Sha256Hex(token));
      *new_token = token;
    }
  }

  if (options_.data_dir.empty()) options_.data_dir = sqlite ? options_.db + ".runs" : "loadcell-runs";
  RunManager::Options ro{options_.binary, options_.data_dir, options_.max_concurrent_runs, nullptr};
  // Runs post their live alerts back here (the loopback address when listening on all).
  const std::string self_host = host == "0.0.0.0" || host.empty() ? "127.0.0.1" : host == "::" ? "[::1]" : host;
  ro.alert_webhook = [this, self_host](int64_t run_id, const std::string& key) {
    return fmt::format("http://{}:{}/internal/runs/{}/alerts?key={}", self_host, port_.load(), run_id, key);
  };
  runs_ = std::make_unique<RunManager>(*store_, ro,
                                       [this](const RunRecord& run, const RunResults* r) { OnRunFinished(run, r); });
  Status started = runs_->Start();
  if (!started.ok()) return started;

  http::Server::Limits limits;
  limits.max_body_bytes = options_.max_body_bytes;
  limits.max_connections_per_client = options_.max_connections_per_client;
  limits.request_timeout_s = options_.request_timeout_s;
  limits.threads = 4;  // handlers query the store and render reports; slow clients cost none
  http_ = std::make_unique<http::Server>(limits);
  Routes();
  Status listening = http_->Listen(host, want);
  if (!listening.ok()) {
    return Error::Io(fmt::format("--listen {}: cannot listen there ({})", options_.listen, listening.error().message));
  }
  port_ = http_->port();
  return Status::Ok();
}

bool Service::Authorized(const std::string& header) const {
  const std::string prefix = "Bearer ";
  if (header.rfind(prefix, 0) != 0) return false;
  std::string hash = Sha256Hex(header.substr(prefix.size()));
  // Hashes of equal length compared whole: no early exit on the first differing byte.
  bool ok = false;
  for (const std::string& h : token_hashes_) {
    unsigned diff = h.size() == hash.size() ? 0 : 1;
    for (size_t i = 0; i < h.size() && i < hash.size(); ++i) diff |= static_cast<unsigned>(h[i] ^ hash[i]);
    ok = ok || diff == 0;
  }
  return ok;
}

void Service::Routes() {
  http::Server& h = *http_;
  // The UI's pages run only their own scripts and are never framed by another site.
  h.SetDefaultHeaders({{"Content-Security-Policy",
                        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                        "img-src 'self' data:; frame-src 'self' about:; frame-ancestors 'none'; base-uri 'none'; "
                        "form-action 'self'"},
                       {"X-Frame-Options", "DENY"},
                       {"X-Content-Type-Options", "nosniff"},
                       {"Referrer-Policy", "no-referrer"}});
  // Before a byte of the body is read: an unauthenticated client costs a hash, no more.
  h.SetGate([this](const http::Request& req, http::Response& res) {
    if (req.path.rfind("/api/v1/", 0) != 0 && req.path != "/api/v1") return false;
    if (Authorized(req.Header("Authorization"))) return false;
    res.SetHeader("WWW-Authenticate", "Bearer");
    api::Fail(res, 401, req.HasHeader("Authorization") ? "invalid token" : "missing Authorization: Bearer <token>");
    return true;
  });
  h.SetErrorBody([this](const http::Request& req, http::Response& res) {
    if (res.status == 413) {
      api::Fail(res, 413, fmt::format("request body larger than {} bytes (--max-body)", options_.max_body_bytes));
    } else if (res.status == 404) {
      api::Fail(res, 404, fmt::format("no such endpoint: {} {}", req.method, req.path));
    } else if (res.status == 405) {
      api::Fail(res, 405, fmt::format("{} is not allowed on {}", req.method, req.path));
    } else {
      api::Fail(res, res.status, fmt::format("HTTP status {}", res.status));
    }
  });
  h.SetExceptionHandler([](const http::Request& req, http::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const api::NoSuchId& id) {
      return api::Fail(res, 404, fmt::format("{}: no such id ({})", req.path, id.text));
    } catch (const std::exception& e) {
      what = std::string("internal error: ") + e.what();
    } catch (...) {
    }
    api::Fail(res, 500, what);
  });
  h.Get("/api/openapi.json", [](const http::Request&, http::Response& res) { api::Json(res, OpenApiDocument()); });
  h.Get("/api/v1/status", [this](const http::Request&, http::Response& res) {
    auto active = store_->ActiveRuns(std::nullopt);
    api::Json(res, {{"version", LOADCELL_VERSION},
                    {"database", store_->Describe()},
                    {"schema_version", store_->schema_version()},
                    {"active_runs", active.ok() ? *active : -1},
                    {"max_concurrent_runs", options_.max_concurrent_runs}});
  });
  h.Get("/",
        [](const http::Request&, http::Response& res) { res.SetContent(WebUiPage(), "text/html; charset=utf-8"); });
  // Browsers ask for it; an empty answer keeps their consoles clean.
  h.Get("/favicon.ico", [](const http::Request&, http::Response& res) { res.status = 204; });
  // A run's live alerts (run --alert-webhook): outside /api/v1, proven by the run's own key.
  h.Post(R"(/internal/runs/(\d+)/alerts)", [this](const http::Request& req, http::Response& res) {
    int64_t id = api::PathId(req);
    if (!runs_->AlertKeyMatches(id, req.Param("key"))) return api::Fail(res, 403, "not a running run's alert key");
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    auto run = store_->GetRun(id);
    if (!run.ok() || !run->has_value()) return api::Fail(res, 404, fmt::format("run {}: no such run", id));
    Status st = ApplyLiveAlerts(*store_, **run, body, UnixNow());
    if (!st.ok()) return api::Fail(res, 400, st.error().message);
    res.status = 204;
  });
  AddTestRoutes(h, *this);
  AddRunRoutes(h, *this);
  AddTemplateRoutes(h, *this);
  AddAlertRoutes(h, *this);
  AddScheduleRoutes(h, *this);
}

Result<int64_t> Service::QueueRun(const std::string& test_name, const std::string& yaml, std::optional<int64_t> test_id,
                                  std::optional<int64_t> schedule_id, const std::string& overrides_json) {
  RunRecord r;
  r.test_id = test_id;
  r.schedule_id = schedule_id;
  r.test_name = test_name;
  r.yaml = yaml;
  r.overrides = overrides_json;
  r.trigger = schedule_id.has_value() ? "schedule" : "api";
  r.created = UnixNow();
  auto id = store_->CreateRun(r);
  if (id.ok()) runs_->Poke();
  return id;
}

void Service::OnRunFinished(const RunRecord& run, const RunResults* results) {
  std::fprintf(stderr, "loadcell serve: run %lld (%s) %s%s%s\n", static_cast<long long>(run.id), run.test_name.c_str(),
               run.status.c_str(), run.message.empty() ? "" : ": ", run.message.c_str());
  if (results == nullptr) return;
  std::vector<AlertEvent> events;
  auto rules = store_->ListRules();
  if (rules.ok()) {
    events = RunAlerts(
        run, *results, *rules,
        [this](int64_t rule) {
          auto last = store_->LastEventOfRule(rule);
          return last.ok() ? *last : 0.0;
        },
        UnixNow());
  }
  if (run.schedule_id.has_value() && run.test_id.has_value() && (run.status == "passed" || run.status == "failed")) {
    auto base = store_->PreviousPassingRun(*run.test_id, run.id);
    if (base.ok() && base->has_value()) {
      auto text = store_->RunResultsJson((*base)->id);
      if (text.ok() && text->has_value()) {
        auto baseline = ParseResults(**text, fmt::format("run {}", (*base)->id));
        if (baseline.ok()) {
          auto e = RegressionAlert(run, (*base)->id, *baseline, *results);
          if (e.has_value()) events.push_back(*e);
        }
      }
    }
  }
  for (const AlertEvent& e : events) {
    auto saved = store_->CreateEvent(e);
    if (saved.ok())
      std::fprintf(stderr, "loadcell serve: alert %lld [%s] %s\n", static_cast<long long>(saved->id),
                   e.severity.c_str(), e.message.c_str());
  }
}

void Service::SchedulerLoop(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    double now = UnixNow();
    auto schedules = store_->ListSchedules();
    if (schedules.ok()) {
      for (Schedule s : *schedules) {
        if (!s.enabled) continue;
        auto cron = CronSchedule::Parse(s.cron);
        if (!cron.ok()) continue;
        if (s.next_run <= 0) {
          s.next_run = cron->NextAfter(now);
          (void)store_->UpdateSchedule(s);
          continue;
        }
        if (now < s.next_run) continue;
        s.next_run = cron->NextAfter(now);
        auto test = store_->GetTest(s.test_id);
        auto active = store_->ActiveRuns(s.test_id);
        // A firing while the test's previous run still goes on is skipped, as cron would overlap.
        if (test.ok() && test->has_value() && active.ok() && *active == 0) {
          auto id = QueueRun((*test)->name, (*test)->yaml, s.test_id, s.id, StoredTestOverrides(**test));
          if (id.ok()) s.last_run_id = *id;
        }
        (void)store_->UpdateSchedule(s);
      }
    }
    if (options_.escalate_after_s > 0) (void)EscalateWarnings(*store_, options_.escalate_after_s, now);
    // Polled: a schedule's resolution is a second; nothing here is latency-sensitive.
    for (int i = 0; i < 4 && !stop.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

void Service::Serve(const std::atomic<bool>& stop) {
  SchedulerLoop(stop);
  http_->Stop();
  runs_->Shutdown();
}

}  // namespace loadcell
