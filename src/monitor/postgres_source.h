// `monitor: postgres:` — the database's own statistics (pg_stat_database, pg_stat_activity,
// pg_locks, pg_stat_statements when installed) read once per second during the run over a
// connection of its own, as named gauges:
//   monitor_pg_connections{state}   client connections by state (active, idle, idle in
//                                   transaction, ...), the monitor's own connection not counted;
//   monitor_pg_connections_used     all of them; monitor_pg_connections_max: max_connections;
//   monitor_pg_xact_commit_rate, monitor_pg_xact_rollback_rate   per second, this database;
//   monitor_pg_cache_hit_ratio      blocks found in shared buffers / blocks asked for, over
//                                   the second (no value in a second that read no block);
//   monitor_pg_tuples_rate{op}      rows returned, fetched, inserted, updated, deleted per second;
//   monitor_pg_locks_waiting        lock requests not granted (sessions waiting on a lock);
//   monitor_pg_deadlocks            deadlocks since the run started;
//   monitor_pg_temp_bytes_rate      bytes written to temporary files per second;
//   monitor_pg_statement_ms{query}, monitor_pg_statement_calls_rate{query}
//                                   the slowest statements of the second (pg_stat_statements:
//                                   mean execution time and calls per second of the `statements`
//                                   statements with the most execution time since the last read).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace loadcell {

// One statement's cumulative numbers from pg_stat_statements.
struct PgStatement {
  std::string id;     // queryid (with userid and dbid: what makes an entry unique)
  std::string query;  // normalised text ($1 for constants)
  double calls = 0;
  double total_ms = 0;
};

// What one read returns, cumulative counters as the server keeps them.
struct PgStatsReading {
  std::map<std::string, double> connections;  // state -> client connections
  double max_connections = 0;
  double xact_commit = 0, xact_rollback = 0;
  double blks_hit = 0, blks_read = 0;
  double tup_returned = 0, tup_fetched = 0, tup_inserted = 0, tup_updated = 0, tup_deleted = 0;
  double deadlocks = 0, temp_bytes = 0;
  double locks_waiting = 0;
  std::optional<std::vector<PgStatement>> statements;  // absent: pg_stat_statements is not installed
};

// Readings into gauges: rates and the cache hit ratio over the time between two reads.
class PgStatsConverter {
 public:
  explicit PgStatsConverter(int statements) : statements_(statements) {}
  // The gauges of a read at `now_s` (seconds, monotonic); rates need a previous read.
  std::map<std::string, double> Convert(const PgStatsReading& r, double now_s);

 private:
  int statements_;
  std::optional<PgStatsReading> last_;
  double last_s_ = 0;
  double first_deadlocks_ = -1;
};

// The longest text a statement's `query` tag keeps (whitespace runs folded to one space).
inline constexpr size_t kPgStatementTagChars = 120;

// A connection to the server (libpq, blocking: on the monitor's own thread) that reads the
// statistics; reconnects on the next read after a failure.
class PgStatsSource {
 public:
  PgStatsSource(std::string url, int statements);
  ~PgStatsSource();
  PgStatsSource(const PgStatsSource&) = delete;
  PgStatsSource& operator=(const PgStatsSource&) = delete;

  // The gauges of one read; an error says what the server or the connection said.
  Result<std::map<std::string, double>> Read(double now_s);
  // Why the slowest statements could not be read, when the rest could (empty: nothing).
  std::string TakeNote();

 private:
  Result<PgStatsReading> Query();

  std::string url_;
  void* conn_ = nullptr;  // PGconn*
  PgStatsConverter converter_;
  int statements_;
  std::string note_;
};

}  // namespace loadcell
