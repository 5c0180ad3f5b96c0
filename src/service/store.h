// What `loadcell serve` keeps: stored tests, runs (with their results document), alert
// rules and events, schedules and settings, in SQLite or PostgreSQL with one schema.
// The schema version lives in table `schema_version`; Open() applies the migrations a
// database lacks, in order, each in one transaction. Every method may be called from any
// thread (one mutex around the single connection: the service's load is a few requests a
// second, not the engine's).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "service/sql_db.h"

namespace loadcell {

struct StoredTest {
  int64_t id = 0;
  std::string name, yaml;
  double created = 0, updated = 0;  // unix seconds
  std::string files = "{}";         // JSON object: the data files uploaded with it, name -> text
};

struct RunRecord {
  int64_t id = 0;
  std::optional<int64_t> test_id, schedule_id;
  std::string test_name;
  std::string yaml;
  std::string overrides = "{}";   // JSON object as posted
  std::string status = "queued";  // queued|running|passed|failed|aborted|error
  std::string trigger = "api";    // api | schedule
  double created = 0, started = 0, finished = 0;
  int exit_code = -1;
  std::string message;
  bool interrupted = false;  // the server stopped while it ran
  // Headline numbers of a finished run (for lists, history and trends).
  int64_t reqs = 0;
  double rate = 0, error_rate = 0, p50_ms = 0, p95_ms = 0, p99_ms = 0, duration_s = 0;
  bool has_results = false;
};

struct RunFilter {
  std::string status;  // "" any
  std::optional<int64_t> test_id;
  int64_t limit = 50, offset = 0;
};

struct AlertRule {
  int64_t id = 0;
  std::string name, metric, condition;  // metric as a threshold key, condition as its expression
  std::string severity = "warning";     // critical|warning|info
  double cooldown_s = 0;
  std::optional<int64_t> test_id;  // only runs of this test; every run when empty
  double created = 0;
};

struct AlertEvent {
  int64_t id = 0;
  std::optional<int64_t> rule_id, run_id, test_id;
  std::string kind;      // threshold | rule | regression | leak
  std::string severity;  // critical|warning|info
  std::string message;
  std::string status = "open";  // open|acknowledged|resolved
  double created = 0, acknowledged = 0, resolved = 0;
};

struct Schedule {
  int64_t id = 0;
  int64_t test_id = 0;
  std::string cron;
  bool enabled = true;
  double created = 0, next_run = 0;
  std::optional<int64_t> last_run_id;
};

class Store {
 public:
  static Result<std::unique_ptr<Store>> Open(std::unique_ptr<SqlDb> db);
  std::string Describe() const { return db_->Describe(); }
  int schema_version() const { return version_; }

  Result<std::optional<std::string>> GetSetting(const std::string& key);
  Status SetSetting(const std::string& key, const std::string& value);

  Result<StoredTest> CreateTest(const std::string& name, const std::string& yaml, const std::string& files = "{}");
  Result<std::vector<StoredTest>> ListTests();
  Result<std::optional<StoredTest>> GetTest(int64_t id);
  Result<std::optional<StoredTest>> FindTest(const std::string& name);
  Status UpdateTest(const StoredTest& t);
  Status DeleteTest(int64_t id);

  Result<int64_t> CreateRun(const RunRecord& r);
  Result<std::optional<RunRecord>> GetRun(int64_t id);
  Result<std::vector<RunRecord>> ListRuns(const RunFilter& f);
  Status MarkRunning(int64_t id, double started);
  // A run's end: its status, headline numbers and results document ("" when none).
  Status FinishRun(const RunRecord& r, const std::string& results_json);
  Result<std::optional<std::string>> RunResultsJson(int64_t id);
  // Finished runs of a test, oldest first (history and trends).
  Result<std::vector<RunRecord>> FinishedRuns(int64_t test_id);
  // The last passing run of a test before `run_id`.
  Result<std::optional<RunRecord>> PreviousPassingRun(int64_t test_id, int64_t run_id);
  Result<int64_t> ActiveRuns(std::optional<int64_t> test_id);
  // Runs left running by a server that stopped: marked aborted and interrupted; returned.
  Result<std::vector<RunRecord>> MarkInterrupted(double now);

  Result<AlertRule> CreateRule(const AlertRule& r);
  Result<std::vector<AlertRule>> ListRules();
  Result<std::optional<AlertRule>> GetRule(int64_t id);
  Status DeleteRule(int64_t id);

  Result<AlertEvent> CreateEvent(const AlertEvent& e);
  Result<std::vector<AlertEvent>> ListEvents(const std::string& status, std::optional<int64_t> run_id);
  Result<std::optional<AlertEvent>> GetEvent(int64_t id);
  Status SetEventStatus(int64_t id, const std::string& status, double at);
  // A new severity, and `note` appended to the message (escalation).
  Status EscalateEvent(int64_t id, const std::string& severity, const std::string& note);
  // When the rule last raised an event (0: never), for its cooldown.
  Result<double> LastEventOfRule(int64_t rule_id);

  Result<Schedule> CreateSchedule(const Schedule& s);
  Result<std::vector<Schedule>> ListSchedules();
  Result<std::optional<Schedule>> GetSchedule(int64_t id);
  Status UpdateSchedule(const Schedule& s);
  Status DeleteSchedule(int64_t id);

 private:
  explicit Store(std::unique_ptr<SqlDb> db) : db_(std::move(db)) {}
  Status Migrate();
  Result<std::vector<SqlRow>> Q(const std::string& sql, const std::vector<SqlValue>& params = {});

  std::mutex mu_;
  std::unique_ptr<SqlDb> db_;
  int version_ = 0;
};

double UnixNow();

}  // namespace loadcell
