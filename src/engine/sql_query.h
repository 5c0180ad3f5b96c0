// Runs a `sql` step for one VU: renders the parameters, hands the query to the worker's
// pool for its database and records sql_queries, sql_query_duration and
// sql_query_failed (tagged scenario, name = the statement's name, group, db, user tags),
// the step's checks ({rows: N}, {max_duration}) and captures ({column, as}, first row).
// The duration runs from the step (pool wait included: what the application would see)
// to the result, plus the iteration's start lag in the open model, like HTTP requests.
//
// Injected faults (`faults:`) act on the query as on an HTTP request: a blackhole loses it
// (not sent; an answer arriving during one is dropped) and it fails as `timeout` at its
// timeout; a reset fails it as `reset` unsent; a latency fault holds it before it goes to
// the pool, its duration counting from the step.
#pragma once

#include <string>

#include "engine/active_step.h"
#include "metrics/recorder.h"
#include "protocol/postgres/pg_pool.h"
#include "scenario/definition.h"

namespace loadcell {

class SqlQuery final : public ActiveStep, public pg::QueryRequest {
 public:
  SqlQuery(const SqlStep& step, int statement, pg::PgPool& pool, Recorder& rec, StepOwner& owner, Tags tags,
           std::unordered_map<std::string, std::string>& vars, Nanos lag, Nanos default_timeout);

  void Start(Nanos now) override;
  void OnTimer(Nanos now) override;
  void Abort(Nanos now) override;
  void Done(pg::QueryResult result, Nanos now) override;

 private:
  void Submit(Nanos now);
  void Finish(pg::QueryResult result, Nanos now);
  void Record(const pg::QueryResult& r, Nanos now);

  enum class Hold { kNone, kLatency, kLost };

  const SqlStep& step_;
  pg::PgPool& pool_;
  Recorder& rec_;
  StepOwner& owner_;
  Tags tags_;
  std::unordered_map<std::string, std::string>& vars_;
  Nanos lag_;
  Nanos timeout_;
  Nanos started_ = 0;
  bool done_ = false;
  Hold hold_ = Hold::kNone;  // kLost: not with the pool, waiting for its timeout
};

}  // namespace loadcell
