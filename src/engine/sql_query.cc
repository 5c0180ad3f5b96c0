#include "engine/sql_query.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/units.h"

namespace loadcell {

SqlQuery::SqlQuery(const SqlStep& step, int statement_index, pg::PgPool& pool, Recorder& rec, StepOwner& owner,
                   Tags tags, std::unordered_map<std::string, std::string>& vars, Nanos lag, Nanos default_timeout)
    : step_(step),
      pool_(pool),
      rec_(rec),
      owner_(owner),
      tags_(std::move(tags)),
      vars_(vars),
      lag_(lag),
      timeout_(step.timeout.value_or(default_timeout)) {
  statement = statement_index;
}

void SqlQuery::Start(Nanos now) {
  started_ = now;
  for (const Template& t : step_.params) {
    auto v = t.Render(owner_.context());
    if (!v.ok()) {
      owner_.Note(
          "sql-render:" + step_.name,
          fmt::format("sql {}: {} (iterations that cannot render a query end there)", step_.name, v.error().message));
      done_ = true;
      for (const SqlCapture& c : step_.captures) vars_.erase(c.as);
      owner_.StepDone(now, true);
      return;
    }
    params.push_back(std::move(v).value());
  }
  FaultDecision fault = owner_.DecideFault(now);
  switch (fault.action) {
    case FaultDecision::Action::kLose:
      hold_ = Hold::kLost;
      owner_.WakeAt(now + timeout_);
      return;
    case FaultDecision::Action::kReset: {
      pg::QueryResult r;
      r.failure = Failure::kReset;
      r.error = "connection reset (injected fault)";
      Finish(std::move(r), now);
      return;
    }
    case FaultDecision::Action::kHold:
      // Held at most until its timeout: a query held longer never goes out.
      hold_ = Hold::kLatency;
      owner_.WakeAt(std::min(now + fault.hold, started_ + timeout_));
      return;
    case FaultDecision::Action::kPass: break;
  }
  Submit(now);
}

void SqlQuery::Submit(Nanos now) {
  owner_.WakeAt(started_ + timeout_);
  pool_.Submit(this, now);
}

void SqlQuery::OnTimer(Nanos now) {
  if (done_) return;
  if (hold_ == Hold::kLatency && now >= started_ + timeout_) {
    hold_ = Hold::kLost;  // held past its timeout: it times out without being sent
  } else if (hold_ == Hold::kLatency) {
    // The hold is over; a blackhole that began meanwhile loses the query.
    hold_ = owner_.FaultLost(now) ? Hold::kLost : Hold::kNone;
    if (hold_ == Hold::kNone)
      Submit(now);
    else
      owner_.WakeAt(started_ + timeout_);
    return;
  }
  if (now < started_ + timeout_) return;
  if (hold_ == Hold::kNone) pool_.Cancel(this);
  pg::QueryResult r;
  r.failure = Failure::kTimeout;
  r.error = fmt::format("no result within {}", FormatDuration(timeout_));
  Finish(std::move(r), now);
}

void SqlQuery::Abort(Nanos /*now*/) {
  if (done_) return;
  done_ = true;
  if (hold_ == Hold::kNone) pool_.Cancel(this);
}

void SqlQuery::Done(pg::QueryResult result, Nanos now) {
  if (done_) return;
  if (owner_.FaultLost(now)) {
    hold_ = Hold::kLost;  // the answer is lost on the way: the query times out (its wake is set)
    return;
  }
  Finish(std::move(result), now);
}

void SqlQuery::Finish(pg::QueryResult result, Nanos now) {
  if (done_) return;
  done_ = true;
  Record(result, now);
  owner_.StepDone(now, false);
}

void SqlQuery::Record(const pg::QueryResult& r, Nanos now) {
  Nanos duration = now - started_ + lag_;
  TagKey key(tags_);
  rec_.Count("sql_queries", key);
  rec_.Rate("sql_query_failed", key, !r.ok);
  if (r.ok) rec_.Trend("sql_query_duration", key, duration);
  if (!r.ok) {
    owner_.StepFailed();
    Tags et{{"scenario", tags_.count("scenario") ? tags_.at("scenario") : ""},
            {"name", step_.name},
            {"kind", FailureName(r.failure)}};
    rec_.Count("sql_errors", et);
    owner_.Note(std::string("sql:") + FailureName(r.failure) + ":" + step_.db + ":" + step_.name,
                fmt::format("sql {} (database {}): {}", step_.name, step_.db, r.error));
  }
  for (const SqlCheck& c : step_.checks) {
    Tags ct = tags_;
    ct["check"] = c.label;
    bool pass = r.ok && (c.rows >= 0 ? r.rows == c.rows : duration <= c.max_duration);
    rec_.Rate("checks", ct, pass);
  }
  for (const SqlCapture& c : step_.captures) {
    bool found = false;
    for (size_t i = 0; i < r.columns.size() && i < r.first_row.size(); ++i) {
      if (r.columns[i] == c.column) {
        vars_[c.as] = r.first_row[i];
        found = true;
        break;
      }
    }
    if (!found) {
      vars_.erase(c.as);
      if (r.ok)
        rec_.Count("capture_failures", Tags{{"scenario", tags_.count("scenario") ? tags_.at("scenario") : ""},
                                            {"name", step_.name},
                                            {"capture", c.as}});
    }
  }
}

}  // namespace loadcell
