// A pool of PostgreSQL connections on one worker's event loop, over libpq's non-blocking
// API (PQconnectStart/PQconnectPoll, PQsendQueryPrepared, PQconsumeInput): no thread per
// connection, the sockets sit in the worker's epoll set beside its HTTP connections.
//
// Each connection runs in pipeline mode and prepares a statement the first time it runs
// it: the Parse and the first Execute go out in one flush (one round trip instead of
// two); later runs send only Bind/Execute/Sync. One query is in flight per connection, so
// a query's latency is its own, not that of the queries queued before it; concurrency
// comes from the pool size.
//
// Threading: one worker thread. Lifetime: a QueryRequest stays valid until its Done()
// ran or Cancel() returned; Done() runs inside OnIo() or Submit().
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "net/poller.h"
#include "protocol/failure.h"

namespace loadcell::pg {

struct QueryResult {
  bool ok = false;
  Failure failure = Failure::kQuery;   // when !ok: connect, query, connection (lost), timeout, reset
  std::string error;                   // libpq's or the server's message (with SQLSTATE)
  int64_t rows = 0;                    // rows returned, or affected by INSERT/UPDATE/DELETE
  std::vector<std::string> columns;    // names
  std::vector<std::string> first_row;  // values of the first row (empty without rows)
};

class QueryRequest {
 public:
  int statement = 0;                // index into the pool's statements
  std::vector<std::string> params;  // text values for $1..$n
  virtual void Done(QueryResult result, Nanos now) = 0;

 protected:
  ~QueryRequest() = default;
};

class PgPool {
 public:
  // `conninfo`: a postgres:// URL or key=value string; `statements`: SQL by index, prepared
  // as "loadcell_<index>" on each connection when first used.
  PgPool(Poller& poller, std::string conninfo, int size, std::vector<std::string> statements);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // Opens the connections (before the load starts, as an application's pool would).
  void Open();
  void Submit(QueryRequest* q, Nanos now);
  // The request is forgotten; if it was running, its connection is dropped and reopened
  // (its answer cannot be told apart from the next one's otherwise).
  void Cancel(QueryRequest* q);
  // Every 10 ms or so: reconnects broken connections (at most every 200 ms each).
  void Scan(Nanos now);
  int connected() const;
  int connecting() const;

 private:
  class Conn;
  void Dispatch(Nanos now);
  void FailWaiting(const std::string& message, Nanos now);

  Poller& poller_;
  std::string conninfo_;
  std::vector<std::string> statements_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::deque<QueryRequest*> waiting_;
  std::string last_error_;
};

}  // namespace loadcell::pg
