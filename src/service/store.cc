#include "service/store.h"

#include <chrono>

#include <fmt/format.h>

namespace loadcell {

double UnixNow() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

namespace {

// Migrations, oldest first. {pk}, {real} and {int} take each dialect's spelling (a REAL in
// PostgreSQL is 4 bytes: not enough for unix seconds).
const char* const kMigrations[] = {
    R"(CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tests (id {pk}, name TEXT NOT NULL UNIQUE, yaml TEXT NOT NULL, created {real} NOT NULL, updated {real} NOT NULL);
CREATE TABLE runs (id {pk}, test_id {int}, schedule_id {int}, test_name TEXT NOT NULL, yaml TEXT NOT NULL,
  overrides TEXT NOT NULL, status TEXT NOT NULL, trig TEXT NOT NULL, created {real} NOT NULL, started {real},
  finished {real}, exit_code {int}, message TEXT, interrupted {int} NOT NULL DEFAULT 0, reqs {int}, rate {real},
  error_rate {real}, p50_ms {real}, p95_ms {real}, p99_ms {real}, duration_s {real}, results TEXT);
CREATE INDEX runs_by_test ON runs (test_id, id);
CREATE INDEX runs_by_status ON runs (status);
CREATE TABLE alert_rules (id {pk}, name TEXT NOT NULL, metric TEXT NOT NULL, cond TEXT NOT NULL, severity TEXT NOT NULL,
  cooldown_s {real} NOT NULL, test_id {int}, created {real} NOT NULL);
CREATE TABLE alert_events (id {pk}, rule_id {int}, run_id {int}, test_id {int}, kind TEXT NOT NULL, severity TEXT NOT NULL,
  message TEXT NOT NULL, status TEXT NOT NULL, created {real} NOT NULL, acknowledged {real}, resolved {real});
CREATE INDEX events_by_rule ON alert_events (rule_id, created);
CREATE TABLE schedules (id {pk}, test_id {int} NOT NULL, cron TEXT NOT NULL, enabled {int} NOT NULL, created {real} NOT NULL,
  next_run {real}, last_run_id {int}))",
    // 2: a stored test carries the data files uploaded with it.
    R"(ALTER TABLE tests ADD COLUMN files TEXT NOT NULL DEFAULT '{}')",
};
constexpr int kVersions = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

std::string ForDialect(std::string sql, SqlDb::Dialect d) {
  auto replace = [&sql](const std::string& from, const std::string& to) {
    for (size_t p = sql.find(from); p != std::string::npos; p = sql.find(from, p + to.size()))
      sql.replace(p, from.size(), to);
  };
  bool pg = d == SqlDb::Dialect::kPostgres;
  replace("{pk}", pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT");
  replace("{real}", pg ? "DOUBLE PRECISION" : "REAL");
  replace("{int}", pg ? "BIGINT" : "INTEGER");
  return sql;
}

SqlValue Opt(const std::optional<int64_t>& v) { return v.has_value() ? SqlValue(*v) : SqlValue(nullptr); }
std::optional<int64_t> OptInt(const SqlRow& r, size_t i) {
  return r.Null(i) ? std::nullopt : std::optional<int64_t>(r.Int(i));
}

const char* const kTestCols = "id, name, yaml, created, updated, files";
StoredTest TestOf(const SqlRow& r) { return {r.Int(0), r.Text(1), r.Text(2), r.Real(3), r.Real(4), r.Text(5)}; }

const char* const kRunCols =
    "id, test_id, schedule_id, test_name, yaml, overrides, status, trig, created, started, finished, exit_code, "
    "message,"
    " interrupted, reqs, rate, error_rate, p50_ms, p95_ms, p99_ms, duration_s, CASE WHEN results IS NULL THEN 0 ELSE 1 "
    "END";
RunRecord RunOf(const SqlRow& r) {
  RunRecord x;
  x.id = r.Int(0);
  x.test_id = OptInt(r, 1);
  x.schedule_id = OptInt(r, 2);
  x.test_name = r.Text(3);
  x.yaml = r.Text(4);
  x.overrides = r.Text(5);
  x.status = r.Text(6);
  x.trigger = r.Text(7);
  x.created = r.Real(8);
  x.started = r.Real(9);
  x.finished = r.Real(10);
  x.exit_code = r.Null(11) ? -1 : static_cast<int>(r.Int(11));
  x.message = r.Text(12);
  x.interrupted = r.Int(13) != 0;
  x.reqs = r.Int(14);
  x.rate = r.Real(15);
  x.error_rate = r.Real(16);
  x.p50_ms = r.Real(17);
  x.p95_ms = r.Real(18);
  x.p99_ms = r.Real(19);
  x.duration_s = r.Real(20);
  x.has_results = r.Int(21) != 0;
  return x;
}

const char* const kRuleCols = "id, name, metric, cond, severity, cooldown_s, test_id, created";
AlertRule RuleOf(const SqlRow& r) {
  return {r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Real(5), OptInt(r, 6), r.Real(7)};
}

const char* const kEventCols =
    "id, rule_id, run_id, test_id, kind, severity, message, status, created, acknowledged, resolved";
AlertEvent EventOf(const SqlRow& r) {
  return {r.Int(0),  OptInt(r, 1), OptInt(r, 2), OptInt(r, 3), r.Text(4), r.Text(5),
          r.Text(6), r.Text(7),    r.Real(8),    r.Real(9),    r.Real(10)};
}

const char* const kScheduleCols = "id, test_id, cron, enabled, created, next_run, last_run_id";
Schedule ScheduleOf(const SqlRow& r) {
  return {r.Int(0), r.Int(1), r.Text(2), r.Int(3) != 0, r.Real(4), r.Real(5), OptInt(r, 6)};
}

template <typename T, typename F>
Result<std::optional<T>> First(Result<std::vector<SqlRow>> rows, F of) {
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return std::optional<T>();
  return std::optional<T>(of((*rows)[0]));
}

template <typename T, typename F>
Result<std::vector<T>> All(Result<std::vector<SqlRow>> rows, F of) {
  if (!rows.ok()) return rows.error();
  std::vector<T> out;
  for (const SqlRow& r : *rows) out.push_back(of(r));
  return out;
}

Status Done(const Result<std::vector<SqlRow>>& rows) { return rows.ok() ? Status::Ok() : Status(rows.error()); }

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(std::unique_ptr<SqlDb> db) {
  std::unique_ptr<Store> s(new Store(std::move(db)));
  Status m = s->Migrate();
  if (!m.ok()) return m.error();
  return s;
}

Result<std::vector<SqlRow>> Store::Q(const std::string& sql, const std::vector<SqlValue>& params) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->Query(sql, params);
}

Status Store::Migrate() {
  auto made = db_->Query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  if (!made.ok()) return made.error();
  auto rows = db_->Query("SELECT MAX(version) FROM schema_version");
  if (!rows.ok()) return rows.error();
  version_ = rows->empty() ? 0 : static_cast<int>((*rows)[0].Int(0));
  if (version_ > kVersions) {
    return Error::InvalidArgument(fmt::format("database {}: schema version {} is newer than this loadcell's ({})",
                                              db_->Describe(), version_, kVersions));
  }
  for (int v = version_; v < kVersions; ++v) {
    std::string sql = ForDialect(kMigrations[v], db_->dialect());
    sql += fmt::format(";INSERT INTO schema_version (version) VALUES ({})", v + 1);
    Status s = db_->Script(sql);
    if (!s.ok()) return Error::Io(fmt::format("migrating to schema version {}: {}", v + 1, s.error().message));
    version_ = v + 1;
  }
  return Status::Ok();
}

Result<std::optional<std::string>> Store::GetSetting(const std::string& key) {
  auto rows = Q("SELECT value FROM settings WHERE key = $1", {key});
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>((*rows)[0].Text(0));
}

Status Store::SetSetting(const std::string& key, const std::string& value) {
  auto rows =
      Q("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2", {key, value});
  return Done(rows);
}

Result<StoredTest> Store::CreateTest(const std::string& name, const std::string& yaml, const std::string& files) {
  double now = UnixNow();
  auto rows =
      Q(fmt::format("INSERT INTO tests (name, yaml, created, updated, files) VALUES ($1, $2, $3, $3, $4) RETURNING {}",
                    kTestCols),
        {name, yaml, now, files});
  if (!rows.ok()) return rows.error();
  return TestOf((*rows)[0]);
}

Result<std::vector<StoredTest>> Store::ListTests() {
  return All<StoredTest>(Q(fmt::format("SELECT {} FROM tests ORDER BY id", kTestCols)), TestOf);
}

Result<std::optional<StoredTest>> Store::GetTest(int64_t id) {
  return First<StoredTest>(Q(fmt::format("SELECT {} FROM tests WHERE id = $1", kTestCols), {id}), TestOf);
}

Result<std::optional<StoredTest>> Store::FindTest(const std::string& name) {
  return First<StoredTest>(Q(fmt::format("SELECT {} FROM tests WHERE name = $1", kTestCols), {name}), TestOf);
}

Status Store::UpdateTest(const StoredTest& t) {
  return Done(Q("UPDATE tests SET name = $1, yaml = $2, updated = $3, files = $4 WHERE id = $5",
                {t.name, t.yaml, UnixNow(), t.files, t.id}));
}

Status Store::DeleteTest(int64_t id) {
  Status s = Done(Q("DELETE FROM schedules WHERE test_id = $1", {id}));
  if (!s.ok()) return s;
  return Done(Q("DELETE FROM tests WHERE id = $1", {id}));
}

Result<int64_t> Store::CreateRun(const RunRecord& r) {
  auto rows =
      Q("INSERT INTO runs (test_id, schedule_id, test_name, yaml, overrides, status, trig, created) VALUES ($1, $2, "
        "$3, $4, $5,"
        " $6, $7, $8) RETURNING id",
        {Opt(r.test_id), Opt(r.schedule_id), r.test_name, r.yaml, r.overrides, r.status, r.trigger, r.created});
  if (!rows.ok()) return rows.error();
  return (*rows)[0].Int(0);
}

Result<std::optional<RunRecord>> Store::GetRun(int64_t id) {
  return First<RunRecord>(Q(fmt::format("SELECT {} FROM runs WHERE id = $1", kRunCols), {id}), RunOf);
}

Result<std::vector<RunRecord>> Store::ListRuns(const RunFilter& f) {
  std::string sql = fmt::format(
      "SELECT {} FROM runs WHERE ($1 = '' OR status = $1) AND ($2 < 0 OR test_id = $2)"
      " ORDER BY id DESC LIMIT $3 OFFSET $4",
      kRunCols);
  return All<RunRecord>(Q(sql, {f.status, f.test_id.value_or(-1), f.limit, f.offset}), RunOf);
}

Status Store::MarkRunning(int64_t id, double started) {
  return Done(Q("UPDATE runs SET status = 'running', started = $1 WHERE id = $2", {started, id}));
}

Status Store::FinishRun(const RunRecord& r, const std::string& results_json) {
  return Done(
      Q("UPDATE runs SET status = $1, finished = $2, exit_code = $3, message = $4, interrupted = $5, reqs = $6,"
        " rate = $7, error_rate = $8, p50_ms = $9, p95_ms = $10, p99_ms = $11, duration_s = $12, results = $13,"
        " started = COALESCE(started, $2) WHERE id = $14",
        {r.status, r.finished, static_cast<int64_t>(r.exit_code), r.message,
         static_cast<int64_t>(r.interrupted ? 1 : 0), r.reqs, r.rate, r.error_rate, r.p50_ms, r.p95_ms, r.p99_ms,
         r.duration_s, results_json.empty() ? SqlValue(nullptr) : SqlValue(results_json), r.id}));
}

Result<std::optional<std::string>> Store::RunResultsJson(int64_t id) {
  auto rows = Q("SELECT results FROM runs WHERE id = $1 AND results IS NOT NULL", {id});
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>((*rows)[0].Text(0));
}

Result<std::vector<RunRecord>> Store::FinishedRuns(int64_t test_id) {
  return All<RunRecord>(Q(fmt::format("SELECT {} FROM runs WHERE test_id = $1 AND status IN ('passed', 'failed')"
                                      " AND results IS NOT NULL ORDER BY id",
                                      kRunCols),
                          {test_id}),
                        RunOf);
}

Result<std::optional<RunRecord>> Store::PreviousPassingRun(int64_t test_id, int64_t run_id) {
  return First<RunRecord>(Q(fmt::format("SELECT {} FROM runs WHERE test_id = $1 AND id < $2 AND status = 'passed'"
                                        " AND results IS NOT NULL ORDER BY id DESC LIMIT 1",
                                        kRunCols),
                            {test_id, run_id}),
                          RunOf);
}

Result<int64_t> Store::ActiveRuns(std::optional<int64_t> test_id) {
  auto rows = Q("SELECT COUNT(*) FROM runs WHERE status IN ('queued', 'running') AND ($1 < 0 OR test_id = $1)",
                {test_id.value_or(-1)});
  if (!rows.ok()) return rows.error();
  return (*rows)[0].Int(0);
}

Result<std::vector<RunRecord>> Store::MarkInterrupted(double now) {
  auto rows = All<RunRecord>(Q(fmt::format("SELECT {} FROM runs WHERE status = 'running'", kRunCols)), RunOf);
  if (!rows.ok()) return rows.error();
  for (RunRecord& r : rows.value()) {
    r.status = "aborted";
    r.interrupted = true;
    r.finished = now;
    r.message = "interrupted: the server stopped while the run was in progress";
    Status s = Done(Q("UPDATE runs SET status = $1, interrupted = 1, finished = $2, message = $3 WHERE id = $4",
                      {r.status, now, r.message, r.id}));
    if (!s.ok()) return s.error();
  }
  return rows;
}

Result<AlertRule> Store::CreateRule(const AlertRule& r) {
  auto rows =
      Q(fmt::format("INSERT INTO alert_rules (name, metric, cond, severity, cooldown_s, test_id, created) VALUES"
                    " ($1, $2, $3, $4, $5, $6, $7) RETURNING {}",
                    kRuleCols),
        {r.name, r.metric, r.condition, r.severity, r.cooldown_s, Opt(r.test_id), UnixNow()});
  if (!rows.ok()) return rows.error();
  return RuleOf((*rows)[0]);
}

Result<std::vector<AlertRule>> Store::ListRules() {
  return All<AlertRule>(Q(fmt::format("SELECT {} FROM alert_rules ORDER BY id", kRuleCols)), RuleOf);
}

Result<std::optional<AlertRule>> Store::GetRule(int64_t id) {
  return First<AlertRule>(Q(fmt::format("SELECT {} FROM alert_rules WHERE id = $1", kRuleCols), {id}), RuleOf);
}

Status Store::DeleteRule(int64_t id) { return Done(Q("DELETE FROM alert_rules WHERE id = $1", {id})); }

Result<AlertEvent> Store::CreateEvent(const AlertEvent& e) {
  auto rows =
      Q(fmt::format("INSERT INTO alert_events (rule_id, run_id, test_id, kind, severity, message, status, created)"
                    " VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) RETURNING {}",
                    kEventCols),
        {Opt(e.rule_id), Opt(e.run_id), Opt(e.test_id), e.kind, e.severity, e.message, UnixNow()});
  if (!rows.ok()) return rows.error();
  return EventOf((*rows)[0]);
}

Result<std::vector<AlertEvent>> Store::ListEvents(const std::string& status, std::optional<int64_t> run_id) {
  return All<AlertEvent>(
      Q(fmt::format("SELECT {} FROM alert_events WHERE ($1 = '' OR status = $1) AND ($2 < 0 OR run_id = $2)"
                    " ORDER BY id DESC",
                    kEventCols),
        {status, run_id.value_or(-1)}),
      EventOf);
}

Result<std::optional<AlertEvent>> Store::GetEvent(int64_t id) {
  return First<AlertEvent>(Q(fmt::format("SELECT {} FROM alert_events WHERE id = $1", kEventCols), {id}), EventOf);
}

Status Store::SetEventStatus(int64_t id, const std::string& status, double at) {
  const char* column = status == "resolved" ? "resolved" : "acknowledged";
  return Done(Q(fmt::format("UPDATE alert_events SET status = $1, {} = $2 WHERE id = $3", column), {status, at, id}));
}

Status Store::EscalateEvent(int64_t id, const std::string& severity, const std::string& note) {
  return Done(Q("UPDATE alert_events SET severity = $1, message = message || $2 WHERE id = $3", {severity, note, id}));
}

Result<double> Store::LastEventOfRule(int64_t rule_id) {
  auto rows = Q("SELECT MAX(created) FROM alert_events WHERE rule_id = $1", {rule_id});
  if (!rows.ok()) return rows.error();
  return rows->empty() ? 0.0 : (*rows)[0].Real(0);
}

Result<Schedule> Store::CreateSchedule(const Schedule& s) {
  auto rows =
      Q(fmt::format("INSERT INTO schedules (test_id, cron, enabled, created, next_run) VALUES ($1, $2, $3, $4, $5)"
                    " RETURNING {}",
                    kScheduleCols),
        {s.test_id, s.cron, static_cast<int64_t>(s.enabled ? 1 : 0), UnixNow(), s.next_run});
  if (!rows.ok()) return rows.error();
  return ScheduleOf((*rows)[0]);
}

Result<std::vector<Schedule>> Store::ListSchedules() {
  return All<Schedule>(Q(fmt::format("SELECT {} FROM schedules ORDER BY id", kScheduleCols)), ScheduleOf);
}

Result<std::optional<Schedule>> Store::GetSchedule(int64_t id) {
  return First<Schedule>(Q(fmt::format("SELECT {} FROM schedules WHERE id = $1", kScheduleCols), {id}), ScheduleOf);
}

Status Store::UpdateSchedule(const Schedule& s) {
  return Done(Q("UPDATE schedules SET cron = $1, enabled = $2, next_run = $3, last_run_id = $4 WHERE id = $5",
                {s.cron, static_cast<int64_t>(s.enabled ? 1 : 0), s.next_run, Opt(s.last_run_id), s.id}));
}

Status Store::DeleteSchedule(int64_t id) { return Done(Q("DELETE FROM schedules WHERE id = $1", {id})); }

}  // namespace loadcell
