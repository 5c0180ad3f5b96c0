#include "history/history_db.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include "output/results_file.h"
#include "output/run_summary.h"

namespace loadcell {
namespace {

constexpr int kSchemaVersion = 1;

// Statements are finalized whatever happens.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

// `sql` prepared into `st`, or the database's error naming the history file.
Status Prepare(sqlite3* db, const std::string& path, const char* sql, Stmt* st) {
  if (sqlite3_prepare_v2(db, sql, -1, &st->s, nullptr) != SQLITE_OK) {
    return Error::Io(fmt::format("history {}: {}", path, sqlite3_errmsg(db)));
  }
  return Status::Ok();
}

}  // namespace

Status HistoryDb::Exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    return Error::Io(fmt::format("history {}: {}", path_, msg));
  }
  return Status::Ok();
}

Result<std::unique_ptr<HistoryDb>> HistoryDb::Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error::Io(fmt::format("cannot open history {}: {}", path, msg));
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<HistoryDb> h(new HistoryDb(db, path));
  Status s = h->Exec("PRAGMA journal_mode=WAL");
  if (!s.ok()) return s.error();
  int version = 0;
  {
    Stmt st;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st.s, nullptr);
    if (st.s != nullptr && sqlite3_step(st.s) == SQLITE_ROW) version = sqlite3_column_int(st.s, 0);
  }
  if (version > kSchemaVersion) {
    return Error::InvalidArgument(
        fmt::format("history {}: schema version {} is newer than this loadcell ({})", path, version, kSchemaVersion));
  }
  if (version < 1) {
    s = h->Exec(
        "BEGIN;"
        "CREATE TABLE runs ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT, test TEXT NOT NULL, file TEXT, file_sha256 TEXT, host TEXT,"
        "  version TEXT, started REAL NOT NULL, duration_s REAL, reqs INTEGER, rate REAL, error_rate REAL,"
        "  p50_ms REAL, p95_ms REAL, p99_ms REAL, passed INTEGER, exit_code INTEGER, summary TEXT);"
        "CREATE INDEX runs_by_test ON runs(test, started);"
        "PRAGMA user_version = 1;"
        "COMMIT;");
    if (!s.ok()) return s.error();
  }
  return h;
}

HistoryDb::~HistoryDb() { sqlite3_close(db_); }

Result<int64_t> HistoryDb::Record(const RunResults& r, int exit_code) {
  Stmt st;
  Status prepared = Prepare(
      db_, path_,
      "INSERT INTO runs (test, file, file_sha256, host, version, started, duration_s, reqs, rate, error_rate, p50_ms,"
      " p95_ms, p99_ms, passed, exit_code, summary) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
      &st);
  if (!prepared.ok()) return prepared.error();
  RequestTotals all = TotalsOf(r);
  std::string summary = DumpJson(TestSummaryExport(r));
  int i = 1;
  auto text = [&](const std::string& v) {
    sqlite3_bind_text(st.s, i++, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  };
  auto real = [&](double v) { sqlite3_bind_double(st.s, i++, v); };
  text(r.meta.test);
  text(r.meta.file);
  text(r.meta.file_sha256);
  text(r.meta.host);
  text(r.meta.version);
  real(r.meta.start_unix);
  real(r.meta.duration_s);
  sqlite3_bind_int64(st.s, i++, all.reqs);
  real(all.rate);
  real(all.failed_rate);
  real(all.latency.p50);
  real(all.latency.p95);
  real(all.latency.p99);
  sqlite3_bind_int(st.s, i++, exit_code == 0 ? 1 : 0);
  sqlite3_bind_int(st.s, i++, exit_code);
  text(summary);
  if (sqlite3_step(st.s) != SQLITE_DONE) return Error::Io(fmt::format("history {}: {}", path_, sqlite3_errmsg(db_)));
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Result<std::vector<HistoryRow>> HistoryDb::Runs(const std::string& test) const {
  Stmt st;
  Status prepared =
      Prepare(db_, path_,
              "SELECT id, test, started, duration_s, reqs, rate, error_rate, p50_ms, p95_ms, p99_ms, passed, exit_code,"
              " file_sha256, host, version FROM runs WHERE (?1 = '' OR test = ?1) ORDER BY test, started, id",
              &st);
  if (!prepared.ok()) return prepared.error();
  sqlite3_bind_text(st.s, 1, test.c_str(), static_cast<int>(test.size()), SQLITE_TRANSIENT);
  std::vector<HistoryRow> rows;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    auto str = [&](int c) {
      const unsigned char* t = sqlite3_column_text(st.s, c);
      return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
    };
    HistoryRow h;
    h.id = sqlite3_column_int64(st.s, 0);
    h.test = str(1);
    h.started = sqlite3_column_double(st.s, 2);
    h.duration_s = sqlite3_column_double(st.s, 3);
    h.reqs = sqlite3_column_int64(st.s, 4);
    h.rate = sqlite3_column_double(st.s, 5);
    h.error_rate = sqlite3_column_double(st.s, 6);
    h.p50_ms = sqlite3_column_double(st.s, 7);
    h.p95_ms = sqlite3_column_double(st.s, 8);
    h.p99_ms = sqlite3_column_double(st.s, 9);
    h.passed = sqlite3_column_int(st.s, 10) != 0;
    h.exit_code = sqlite3_column_int(st.s, 11);
    h.file_sha256 = str(12);
    h.host = str(13);
    h.version = str(14);
    rows.push_back(std::move(h));
  }
  if (rc != SQLITE_DONE) return Error::Io(fmt::format("history {}: {}", path_, sqlite3_errmsg(db_)));
  return rows;
}

}  // namespace loadcell
