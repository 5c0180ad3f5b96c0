// The service's storage seam: one SQL connection, SQLite or PostgreSQL, behind the same
// small interface so that the store (store.h) writes its schema and queries once.
// Statements use PostgreSQL's `$1, $2, …` placeholders; the SQLite side rewrites them to
// its numbered `?1, ?2, …`. Values come back as text (NULL as nullopt): the store parses
// what it asked for. Not thread-safe: the store serialises calls.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"

namespace loadcell {

using SqlValue = std::variant<std::nullptr_t, int64_t, double, std::string>;

struct SqlRow {
  std::vector<std::optional<std::string>> cols;
  bool Null(size_t i) const { return !cols.at(i).has_value(); }
  const std::string& Text(size_t i) const;  // "" for NULL
  int64_t Int(size_t i) const;              // 0 for NULL
  double Real(size_t i) const;              // 0 for NULL
};

class SqlDb {
 public:
  enum class Dialect { kSqlite, kPostgres };
  virtual ~SqlDb() = default;
  virtual Dialect dialect() const = 0;
  // Runs one statement; rows when it returns any (SELECT, INSERT … RETURNING).
  virtual Result<std::vector<SqlRow>> Query(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;
  // Several statements without parameters (schema migrations), in one transaction.
  virtual Status Script(const std::string& sql) = 0;
  // Where the data lives, for messages (a file name, or the URL without its password).
  virtual std::string Describe() const = 0;
};

// A file (created when missing; WAL journal, busy timeout 5 s).
Result<std::unique_ptr<SqlDb>> OpenSqlite(const std::string& path);
// A `postgres://` or `postgresql://` URL, or a libpq keyword string.
Result<std::unique_ptr<SqlDb>> OpenPostgres(const std::string& conninfo);
// By its form: a postgres URL opens PostgreSQL, anything else is a SQLite file.
Result<std::unique_ptr<SqlDb>> OpenSqlDb(const std::string& where);

// "postgres://user:secret@host/db" without the password, for logs and messages.
std::string RedactConnInfo(const std::string& conninfo);

}  // namespace loadcell
