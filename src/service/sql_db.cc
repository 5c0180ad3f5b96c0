#include "service/sql_db.h"

#include <fcntl.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include <cctype>
#include <cstdlib>

#include <fmt/format.h>

namespace loadcell {

const std::string& SqlRow::Text(size_t i) const {
  static const std::string kEmpty;
  const auto& c = cols.at(i);
  return c.has_value() ? *c : kEmpty;
}

int64_t SqlRow::Int(size_t i) const { return Null(i) ? 0 : std::strtoll(cols[i]->c_str(), nullptr, 10); }

double SqlRow::Real(size_t i) const { return Null(i) ? 0 : std::strtod(cols[i]->c_str(), nullptr); }

namespace {

// `$12` → `?12`: SQLite's numbered parameters, so one statement text serves both.
std::string ToSqliteParams(const std::string& sql) {
  std::string out;
  out.reserve(sql.size());
  for (size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] == '$' && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1])) != 0)
      out += '?';
    else
      out += sql[i];
  }
  return out;
}

class SqliteDb : public SqlDb {
 public:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteDb() override { sqlite3_close(db_); }
  Dialect dialect() const override { return Dialect::kSqlite; }
  std::string Describe() const override { return path_; }

  Result<std::vector<SqlRow>> Query(const std::string& sql, const std::vector<SqlValue>& params) override {
    sqlite3_stmt* st = nullptr;
    std::string text = ToSqliteParams(sql);
    if (sqlite3_prepare_v2(db_, text.c_str(), -1, &st, nullptr) != SQLITE_OK) return Fail();
    struct Finalize {
      sqlite3_stmt* s;
      ~Finalize() { sqlite3_finalize(s); }
    } finalize{st};
    for (size_t i = 0; i < params.size(); ++i) {
      int at = static_cast<int>(i + 1);
      const SqlValue& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<int64_t>(v))
        rc = sqlite3_bind_int64(st, at, std::get<int64_t>(v));
      else if (std::holds_alternative<double>(v))
        rc = sqlite3_bind_double(st, at, std::get<double>(v));
      else if (std::holds_alternative<std::string>(v)) {
        const std::string& s = std::get<std::string>(v);
        rc = sqlite3_bind_text(st, at, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(st, at);
      }
      if (rc != SQLITE_OK) return Fail();
    }
    std::vector<SqlRow> rows;
    for (;;) {
      int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return Fail();
      SqlRow row;
      int n = sqlite3_column_count(st);
      for (int c = 0; c < n; ++c) {
        if (sqlite3_column_type(st, c) == SQLITE_NULL) {
          row.cols.emplace_back(std::nullopt);
        } else {
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
          row.cols.emplace_back(std::string(p, static_cast<size_t>(sqlite3_column_bytes(st, c))));
        }
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  Status Script(const std::string& sql) override {
    char* err = nullptr;
    std::string all = "BEGIN;" + sql + ";COMMIT;";
    if (sqlite3_exec(db_, all.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err != nullptr ? err : "unknown error";
      sqlite3_free(err);
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return Error::Io(fmt::format("{}: {}", path_, msg));
    }
    return Status::Ok();
  }

 private:
  Error Fail() const { return Error::Io(fmt::format("{}: {}", path_, sqlite3_errmsg(db_))); }
  sqlite3* db_;
  std::string path_;
};

class PostgresDb : public SqlDb {
 public:
  PostgresDb(PGconn* conn, std::string where) : conn_(conn), where_(std::move(where)) {}
  ~PostgresDb() override { PQfinish(conn_); }
  Dialect dialect() const override { return Dialect::kPostgres; }
  std::string Describe() const override { return where_; }

  Result<std::vector<SqlRow>> Query(const std::string& sql, const std::vector<SqlValue>& params) override {
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      const SqlValue& v = params[i];
      if (std::holds_alternative<std::nullptr_t>(v)) continue;
      if (std::holds_alternative<int64_t>(v))
        text[i] = std::to_string(std::get<int64_t>(v));
      else if (std::holds_alternative<double>(v))
        text[i] = fmt::format("{:.17g}", std::get<double>(v));
      else
        text[i] = std::get<std::string>(v);
      values[i] = text[i].c_str();
    }
    PGresult* res =
        PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr, values.data(), nullptr, nullptr, 0);
    struct Clear {
      PGresult* r;
      ~Clear() { PQclear(r); }
    } clear{res};
    ExecStatusType status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return Error::Io(fmt::format("{}: {}", where_, TrimmedError(PQresultErrorMessage(res))));
    }
    std::vector<SqlRow> rows;
    int n = PQntuples(res), m = PQnfields(res);
    for (int r = 0; r < n; ++r) {
      SqlRow row;
      for (int c = 0; c < m; ++c) {
        if (PQgetisnull(res, r, c) != 0)
          row.cols.emplace_back(std::nullopt);
        else
          row.cols.emplace_back(std::string(PQgetvalue(res, r, c), static_cast<size_t>(PQgetlength(res, r, c))));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  Status Script(const std::string& sql) override {
    std::string all = "BEGIN;" + sql + ";COMMIT;";
    PGresult* res = PQexec(conn_, all.c_str());
    ExecStatusType status = PQresultStatus(res);
    std::string msg = TrimmedError(PQresultErrorMessage(res));
    PQclear(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      PQclear(PQexec(conn_, "ROLLBACK"));
      return Error::Io(fmt::format("{}: {}", where_, msg));
    }
    return Status::Ok();
  }

 private:
  static std::string TrimmedError(const char* m) {
    std::string s = m != nullptr ? m : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
  PGconn* conn_;
  std::string where_;
};

}  // namespace

std::string RedactConnInfo(const std::string& conninfo) {
  // scheme://user:password@host → scheme://user:[redacted]@host; key=value strings lose password=….
  size_t scheme = conninfo.find("://");
  if (scheme != std::string::npos) {
    size_t at = conninfo.find('@', scheme + 3);
    size_t colon = conninfo.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at) {
      return conninfo.substr(0, colon + 1) + "[redacted]" + conninfo.substr(at);
    }
    return conninfo;
  }
  size_t p = conninfo.find("password=");
  if (p == std::string::npos) return conninfo;
  size_t end = conninfo.find(' ', p);
  return conninfo.substr(0, p) + "password=[redacted]" + (end == std::string::npos ? "" : conninfo.substr(end));
}

Result<std::unique_ptr<SqlDb>> OpenSqlite(const std::string& path) {
  // The store holds test files and their variables: a new database is its owner's alone
  // (SQLite gives its -wal and -shm files the database file's mode).
  if (int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600); fd >= 0) ::close(fd);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error::Io(fmt::format("cannot open database {}: {}", path, msg));
  }
  sqlite3_busy_timeout(db, 5000);
  auto out = std::make_unique<SqliteDb>(db, path);
  char* err = nullptr;
  if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON", nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    return Error::Io(fmt::format("cannot open database {}: {}", path, msg));
  }
  return std::unique_ptr<SqlDb>(std::move(out));
}

Result<std::unique_ptr<SqlDb>> OpenPostgres(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::string where = RedactConnInfo(conninfo);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string msg = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    PQfinish(conn);
    return Error::Io(fmt::format("cannot connect to {}: {}", where, msg));
  }
  PQclear(PQexec(conn, "SET client_min_messages = warning"));
  return std::unique_ptr<SqlDb>(std::make_unique<PostgresDb>(conn, where));
}

Result<std::unique_ptr<SqlDb>> OpenSqlDb(const std::string& where) {
  if (where.rfind("postgres://", 0) == 0 || where.rfind("postgresql://", 0) == 0) return OpenPostgres(where);
  return OpenSqlite(where);
}

}  // namespace loadcell
