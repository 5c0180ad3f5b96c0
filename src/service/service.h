// `loadcell serve`: a long-running service around the engine — stored tests, runs started
// over a REST API (each in its own process, see run_manager.h), their history and trends,
// built-in templates, alert rules and events, cron schedules, and a web UI. The API is
// described by /api/openapi.json (openapi.cc); every /api/v1 call needs
// `Authorization: Bearer TOKEN`.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/result.h"
#include "service/run_manager.h"
#include "service/store.h"

namespace loadcell::http {
class Server;
struct Response;
}  // namespace loadcell::http

namespace loadcell {

class Service {
 public:
  struct Options {
    std::string listen = "127.0.0.1:8686";
    std::string db = "loadcell.db";  // SQLite file, or postgres://…
    std::string token_file;          // tokens, one per line; none: one is generated
    std::string data_dir;            // run directories; default: next to the SQLite file, or ./loadcell-runs
    int max_concurrent_runs = 1;
    size_t max_body_bytes = 1 << 20;
    unsigned max_connections_per_client = 64;
    unsigned request_timeout_s = 30;
    std::string binary;           // the loadcell executable the runs use
    double escalate_after_s = 0;  // an open live warning becomes critical after this long (0: never)
  };

  explicit Service(Options options);
  ~Service();

  // Opens the store, the token, the run manager and the scheduler, binds the listener.
  // `*new_token` gets a token generated on this (first) start, to be shown once.
  Status Start(std::string* new_token);
  int port() const { return port_.load(); }
  // Serves until `stop` turns true; then aborts running runs and returns.
  void Serve(const std::atomic<bool>& stop);

  // Used by the route handlers (api_*.cc).
  Store& store() { return *store_; }
  RunManager& runs() { return *runs_; }
  const Options& options() const { return options_; }
  // The run of a stored test, queued: `overrides` as posted.
  Result<int64_t> QueueRun(const std::string& test_name, const std::string& yaml, std::optional<int64_t> test_id,
                           std::optional<int64_t> schedule_id, const std::string& overrides_json);
  // Every run's end: alert events, and a scheduled run's comparison with its predecessor.
  void OnRunFinished(const RunRecord& run, const RunResults* results);

 private:
  void Routes();
  void SchedulerLoop(const std::atomic<bool>& stop);
  bool Authorized(const std::string& header) const;

  Options options_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<RunManager> runs_;
  std::unique_ptr<http::Server> http_;
  std::vector<std::string> token_hashes_;  // SHA-256 of each accepted token, hex
  std::atomic<int> port_{0};               // read by the run manager's thread (the runs' alert webhook)
};

// Route groups, one file each.
void AddTestRoutes(http::Server& http, Service& s);
void AddRunRoutes(http::Server& http, Service& s);
void AddAlertRoutes(http::Server& http, Service& s);
void AddScheduleRoutes(http::Server& http, Service& s);
void AddTemplateRoutes(http::Server& http, Service& s);
// False (after answering 409 or 500) when another test than `except_id` has this name.
bool TestNameFree(Service& s, const std::string& name, int64_t except_id, http::Response& res);
// The OpenAPI 3 document of every route above.
const nlohmann::json& OpenApiDocument();

std::string Sha256Hex(const std::string& data);

}  // namespace loadcell
