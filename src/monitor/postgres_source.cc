#include "monitor/postgres_source.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include <fmt/format.h>

#include "common/printable.h"
#include "metrics/gauge_key.h"

namespace loadcell {
namespace {

// Every statement the monitor sends starts with this comment, so that pg_stat_statements'
// list of the slowest statements can leave the monitor's own out.
#define LOADCELL_MONITOR_TAG "/* loadcell monitor */ "

constexpr const char* kDatabaseStats = LOADCELL_MONITOR_TAG
    "SELECT (SELECT setting::float8 FROM pg_settings WHERE name = 'max_connections'), "
    "xact_commit, xact_rollback, blks_hit, blks_read, tup_returned, tup_fetched, tup_inserted, tup_updated, "
    "tup_deleted, deadlocks, temp_bytes, (SELECT count(*) FROM pg_locks WHERE NOT granted) "
    "FROM pg_stat_database WHERE datname = current_database()";

constexpr const char* kConnections = LOADCELL_MONITOR_TAG
    "SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity "
    "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1";

constexpr const char* kHasStatements =
    LOADCELL_MONITOR_TAG "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'";

// PostgreSQL 13 renamed total_time to total_exec_time.
std::string StatementsQuery(int server_version) {
  return fmt::format(LOADCELL_MONITOR_TAG
                     "SELECT queryid::text || '/' || userid::text, query, calls, {} FROM pg_stat_statements "
                     "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                     "AND query NOT LIKE '/* loadcell monitor */%'",
                     server_version >= 130000 ? "total_exec_time" : "total_time");
}

double Number(PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col) != 0) return 0;
  return std::strtod(PQgetvalue(r, row, col), nullptr);
}

// A statement's text as a tag: whitespace runs folded, cut to a readable length.
std::string StatementTag(const std::string& query) {
  std::string out;
  bool space = false;
  for (char c : query) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() >= kPgStatementTagChars) {
      out += "...";
      break;
    }
  }
  return Printable(out);
}

// An owned libpq result.
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

std::string Trimmed(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return Printable(s);
}

}  // namespace

std::map<std::string, double> PgStatsConverter::Convert(const PgStatsReading& r, double now_s) {
  std::map<std::string, double> out;
  double used = 0;
  for (const auto& [state, n] : r.connections) {
    out[GaugeKey("monitor_pg_connections", {{"state", state}})] = n;
    used += n;
  }
  out["monitor_pg_connections_used"] = used;
  if (r.max_connections > 0) out["monitor_pg_connections_max"] = r.max_connections;
  out["monitor_pg_locks_waiting"] = r.locks_waiting;
  if (first_deadlocks_ < 0) first_deadlocks_ = r.deadlocks;
  out["monitor_pg_deadlocks"] = std::max(0.0, r.deadlocks - first_deadlocks_);
  if (last_.has_value() && now_s > last_s_) {
    const PgStatsReading& p = *last_;
    const double dt = now_s - last_s_;
    // A counter that went down was reset (pg_stat_reset): count from zero, as rate() does.
    auto increase = [](double now, double before) { return now >= before ? now - before : now; };
    auto rate = [&](double now, double before) { return increase(now, before) / dt; };
    out["monitor_pg_xact_commit_rate"] = rate(r.xact_commit, p.xact_commit);
    out["monitor_pg_xact_rollback_rate"] = rate(r.xact_rollback, p.xact_rollback);
    out["monitor_pg_temp_bytes_rate"] = rate(r.temp_bytes, p.temp_bytes);
    const double hit = increase(r.blks_hit, p.blks_hit), read = increase(r.blks_read, p.blks_read);
    if (hit + read > 0) out["monitor_pg_cache_hit_ratio"] = hit / (hit + read);
    const std::pair<const char*, std::pair<double, double>> tuples[] = {{"returned", {r.tup_returned, p.tup_returned}},
                                                                        {"fetched", {r.tup_fetched, p.tup_fetched}},
                                                                        {"inserted", {r.tup_inserted, p.tup_inserted}},
                                                                        {"updated", {r.tup_updated, p.tup_updated}},
                                                                        {"deleted", {r.tup_deleted, p.tup_deleted}}};
    for (const auto& [op, values] : tuples) {
      out[GaugeKey("monitor_pg_tuples_rate", {{"op", op}})] = rate(values.first, values.second);
    }
    if (r.statements.has_value() && p.statements.has_value() && statements_ > 0) {
      std::map<std::string, const PgStatement*> before;
      for (const PgStatement& s : *p.statements) before[s.id] = &s;
      struct Delta {
        const PgStatement* s;
        double calls, ms;
      };
      std::vector<Delta> deltas;
      for (const PgStatement& s : *r.statements) {
        auto it = before.find(s.id);
        double calls = it == before.end() ? s.calls : increase(s.calls, it->second->calls);
        double ms = it == before.end() ? s.total_ms : increase(s.total_ms, it->second->total_ms);
        if (calls > 0) deltas.push_back({&s, calls, ms});
      }
      const size_t keep = std::min(deltas.size(), static_cast<size_t>(statements_));
      std::partial_sort(deltas.begin(), deltas.begin() + static_cast<std::ptrdiff_t>(keep), deltas.end(),
                        [](const Delta& a, const Delta& b) { return a.ms > b.ms; });
      for (size_t i = 0; i < keep; ++i) {
        Tags tags{{"query", StatementTag(deltas[i].s->query)}};
        // Two entries with one text (other users): the one with more time stands.
        out.emplace(GaugeKey("monitor_pg_statement_ms", tags), deltas[i].ms / deltas[i].calls);
        out.emplace(GaugeKey("monitor_pg_statement_calls_rate", tags), deltas[i].calls / dt);
      }
    }
  }
  last_ = r;
  last_s_ = now_s;
  return out;
}

PgStatsSource::PgStatsSource(std::string url, int statements)
    : url_(std::move(url)), converter_(statements), statements_(statements) {}

PgStatsSource::~PgStatsSource() {
  if (conn_ != nullptr) PQfinish(static_cast<PGconn*>(conn_));
}

Result<PgStatsReading> PgStatsSource::Query() {
  if (conn_ != nullptr && PQstatus(static_cast<PGconn*>(conn_)) != CONNECTION_OK) {
    PQfinish(static_cast<PGconn*>(conn_));
    conn_ = nullptr;
  }
  if (conn_ == nullptr) {
    // The URL's own parameters stand; a connect timeout unless it gives one.
    // (Later entries override earlier ones: the URL's own expanded last.)
    const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {"2", "loadcell monitor", url_.c_str(), nullptr};
    PGconn* c = PQconnectdbParams(keys, values, 1);
    if (PQstatus(c) != CONNECTION_OK) {
      std::string why = Trimmed(PQerrorMessage(c));
      PQfinish(c);
      return Error::Io(why);
    }
    PgResult set(PQexec(c, LOADCELL_MONITOR_TAG "SET statement_timeout = 2000"));
    conn_ = c;
  }
  PGconn* c = static_cast<PGconn*>(conn_);
  auto run = [c](const char* sql) -> Result<PgResult> {
    PgResult r(PQexec(c, sql));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return Error::Io(Trimmed(PQerrorMessage(c)));
    return r;
  };
  PgStatsReading reading;
  auto db = run(kDatabaseStats);
  if (!db.ok()) return db.error();
  PGresult* d = db->get();
  if (PQntuples(d) != 1) return Error::Io("no statistics for the database (pg_stat_database has no row for it)");
  double* fields[] = {&reading.max_connections, &reading.xact_commit,  &reading.xact_rollback, &reading.blks_hit,
                      &reading.blks_read,       &reading.tup_returned, &reading.tup_fetched,   &reading.tup_inserted,
                      &reading.tup_updated,     &reading.tup_deleted,  &reading.deadlocks,     &reading.temp_bytes,
                      &reading.locks_waiting};
  for (int i = 0; i < static_cast<int>(std::size(fields)); ++i) *fields[i] = Number(d, 0, i);
  auto conns = run(kConnections);
  if (!conns.ok()) return conns.error();
  for (int i = 0; i < PQntuples(conns->get()); ++i) {
    reading.connections[PQgetvalue(conns->get(), i, 0)] = Number(conns->get(), i, 1);
  }
  if (statements_ > 0) {
    auto has = run(kHasStatements);
    if (has.ok() && Number(has->get(), 0, 0) > 0) {
      auto st = run(StatementsQuery(PQserverVersion(c)).c_str());
      if (!st.ok()) {
        // Installed but not loaded (shared_preload_libraries), or not readable: the rest stands.
        note_ = fmt::format("pg_stat_statements: {}", st.error().message);
        return reading;
      }
      std::vector<PgStatement> list;
      for (int i = 0; i < PQntuples(st->get()); ++i) {
        list.push_back({PQgetvalue(st->get(), i, 0), PQgetvalue(st->get(), i, 1), Number(st->get(), i, 2),
                        Number(st->get(), i, 3)});
      }
      reading.statements = std::move(list);
    }
  }
  return reading;
}

Result<std::map<std::string, double>> PgStatsSource::Read(double now_s) {
  auto r = Query();
  if (!r.ok()) return r.error();
  return converter_.Convert(*r, now_s);
}

std::string PgStatsSource::TakeNote() { return std::exchange(note_, std::string()); }

}  // namespace loadcell
