// The run history (`run --history FILE.db`, `loadcell history`): one SQLite row per run with
// its headline numbers and its summary export, so trends and change points can be read
// without keeping every results file. WAL mode; the schema version is PRAGMA user_version
// and Open() migrates older files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "results/run_results.h"

struct sqlite3;

namespace loadcell {

struct HistoryRow {
  int64_t id = 0;
  std::string test;
  double started = 0;  // unix seconds
  double duration_s = 0;
  int64_t reqs = 0;
  double rate = 0, error_rate = 0, p50_ms = 0, p95_ms = 0, p99_ms = 0;
  bool passed = false;
  int exit_code = 0;
  std::string file_sha256, host, version;
};

class HistoryDb {
 public:
  static Result<std::unique_ptr<HistoryDb>> Open(const std::string& path);
  ~HistoryDb();
  HistoryDb(const HistoryDb&) = delete;
  HistoryDb& operator=(const HistoryDb&) = delete;

  Result<int64_t> Record(const RunResults& r, int exit_code);
  // Oldest first; every test when `test` is empty.
  Result<std::vector<HistoryRow>> Runs(const std::string& test) const;

 private:
  explicit HistoryDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Exec(const char* sql) const;
  sqlite3* db_;
  std::string path_;
};

}  // namespace loadcell
