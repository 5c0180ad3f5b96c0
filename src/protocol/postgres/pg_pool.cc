#include "protocol/postgres/pg_pool.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

namespace loadcell::pg {
namespace {

constexpr Nanos kRetryAfter = 200 * kMilli;

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running
// ..."): one line each, for summaries and logs.
std::string Trimmed(const char* text) {
  std::string s;
  for (const char* p = text != nullptr ? text : ""; *p != '\0'; ++p) {
    if (*p == '\n' || *p == '\t') {
      if (!s.empty() && s.back() != ' ') s.push_back(' ');
    } else {
      s.push_back(*p);
    }
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string StatementName(int index) { return fmt::format("loadcell_{}", index); }

}  // namespace

class PgPool::Conn final : public IoHandler {
 public:
  enum class State { kDown, kConnecting, kIdle, kBusy };

  explicit Conn(PgPool& pool) : pool_(pool), prepared_(pool.statements_.size(), false) {}
  ~Conn() { Close(); }

  State state() const { return state_; }
  QueryRequest* current() const { return current_; }
  Nanos retry_at() const { return retry_at_; }

  void Connect(Nanos now) {
    Close();
    pg_ = PQconnectStart(pool_.conninfo_.c_str());
    if (pg_ == nullptr || PQstatus(pg_) == CONNECTION_BAD) {
      Broken(pg_ != nullptr ? Trimmed(PQerrorMessage(pg_)) : "out of memory", now);
      return;
    }
    state_ = State::kConnecting;
    Watch(EPOLLOUT);
  }

  void Run(QueryRequest* q, Nanos now) {
    current_ = q;
    state_ = State::kBusy;
    preparing_ = !prepared_[static_cast<size_t>(q->statement)];
    results_seen_ = 0;
    result_ = QueryResult{};
    result_.ok = true;
    std::string name = StatementName(q->statement);
    const std::string& sql = pool_.statements_[static_cast<size_t>(q->statement)];
    std::vector<const char*> values;
    for (const std::string& p : q->params) values.push_back(p.c_str());
    bool sent = true;
    if (preparing_) sent = PQsendPrepare(pg_, name.c_str(), sql.c_str(), static_cast<int>(values.size()), nullptr) == 1;
    sent = sent && PQsendQueryPrepared(pg_, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                                       nullptr, 0) == 1;
    sent = sent && PQpipelineSync(pg_) == 1;
    if (!sent) {
      Lost(Trimmed(PQerrorMessage(pg_)), now);
      return;
    }
    Flush(now);
  }

  // Forget the running query: its answer would be taken for the next one's.
  void Drop(Nanos now) {
    current_ = nullptr;
    Close();
    retry_at_ = now;
  }

  void OnIo(uint32_t events, Nanos now) override {
    if (state_ == State::kConnecting) {
      PollConnect(now);
      return;
    }
    if (state_ == State::kDown || pg_ == nullptr) return;
    if ((events & EPOLLOUT) != 0) {
      Flush(now);
      if (state_ != State::kBusy) return;
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) return;
    if (PQconsumeInput(pg_) == 0) {
      Lost(Trimmed(PQerrorMessage(pg_)), now);
      return;
    }
    if (state_ == State::kIdle) {
      // Nothing asked: a notice, or the server closing the connection.
      if (PQstatus(pg_) == CONNECTION_BAD) Broken(Trimmed(PQerrorMessage(pg_)), now);
      return;
    }
    while (state_ == State::kBusy && PQisBusy(pg_) == 0) {
      PGresult* res = PQgetResult(pg_);
      if (res == nullptr) continue;  // the end of one statement's results (pipeline mode)
      ExecStatusType st = PQresultStatus(res);
      if (st == PGRES_PIPELINE_SYNC) {
        PQclear(res);
        Finish(now);
        return;
      }
      bool for_prepare = preparing_ && results_seen_ == 0;
      ++results_seen_;
      switch (st) {
        case PGRES_COMMAND_OK:
          if (for_prepare)
            prepared_[static_cast<size_t>(current_->statement)] = true;
          else
            result_.rows = std::atoll(PQcmdTuples(res));
          break;
        case PGRES_TUPLES_OK: {
          result_.rows = PQntuples(res);
          int cols = PQnfields(res);
          for (int c = 0; c < cols; ++c) {
            result_.columns.emplace_back(PQfname(res, c));
            if (result_.rows > 0) result_.first_row.emplace_back(PQgetvalue(res, 0, c));
          }
          break;
        }
        case PGRES_EMPTY_QUERY: break;
        case PGRES_PIPELINE_ABORTED: break;  // behind an error reported just before
        default:
          if (result_.ok) {
            result_.ok = false;
            result_.failure = Failure::kQuery;
            const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            result_.error = fmt::format("{}{}", Trimmed(PQresultErrorMessage(res)),
                                        state != nullptr ? fmt::format(" (SQLSTATE {})", state) : "");
          }
          break;
      }
      PQclear(res);
    }
  }

 private:
  void Watch(uint32_t events) {
    int fd = PQsocket(pg_);
    if (fd < 0) return;
    if (fd != fd_) {  // libpq moved to another socket (another address): the old one is closed
      fd_ = fd;
      interest_ = events;
      (void)pool_.poller_.Add(fd, events, static_cast<IoHandler*>(this));
      return;
    }
    if (events == interest_) return;
    interest_ = events;
    if (!pool_.poller_.Modify(fd, events, static_cast<IoHandler*>(this)).ok()) {
      (void)pool_.poller_.Add(fd, events, static_cast<IoHandler*>(this));
    }
  }

  void PollConnect(Nanos now) {
    switch (PQconnectPoll(pg_)) {
      case PGRES_POLLING_READING: Watch(EPOLLIN); return;
      case PGRES_POLLING_WRITING: Watch(EPOLLOUT); return;
      case PGRES_POLLING_OK:
        if (PQsetnonblocking(pg_, 1) != 0 || PQenterPipelineMode(pg_) != 1) {
          Broken(Trimmed(PQerrorMessage(pg_)), now);
          return;
        }
        state_ = State::kIdle;
        Watch(EPOLLIN);
        pool_.last_error_.clear();
        pool_.Dispatch(now);
        return;
      default: Broken(Trimmed(PQerrorMessage(pg_)), now); return;
    }
  }

  void Flush(Nanos now) {
    int r = PQflush(pg_);
    if (r < 0) {
      Lost(Trimmed(PQerrorMessage(pg_)), now);
      return;
    }
    Watch(r == 1 ? (EPOLLIN | EPOLLOUT) : EPOLLIN);
  }

  void Finish(Nanos now) {
    QueryRequest* q = current_;
    current_ = nullptr;
    state_ = State::kIdle;
    QueryResult r = std::move(result_);
    q->Done(std::move(r), now);  // may submit the VU's next query, to this very connection
    pool_.Dispatch(now);
  }

  // The connection broke while a query ran: the query fails with libpq's words.
  void Lost(std::string message, Nanos now) {
    QueryRequest* q = current_;
    Broken(message, now);
    if (q != nullptr) {
      QueryResult r;
      r.failure = Failure::kConnectionLost;
      r.error = message.empty() ? "connection to the server lost" : message;
      q->Done(std::move(r), now);
    }
  }

  void Broken(std::string message, Nanos now) {
    current_ = nullptr;
    Close();
    retry_at_ = now + kRetryAfter;
    pool_.last_error_ = std::move(message);
    pool_.FailWaiting(pool_.last_error_, now);
  }

  void Close() {
    if (pg_ != nullptr) PQfinish(pg_);  // closes the socket, which leaves the epoll set
    pg_ = nullptr;
    fd_ = -1;
    interest_ = 0;
    state_ = State::kDown;
    std::fill(prepared_.begin(), prepared_.end(), false);
  }

  PgPool& pool_;
  PGconn* pg_ = nullptr;
  int fd_ = -1;
  uint32_t interest_ = 0;
  State state_ = State::kDown;
  Nanos retry_at_ = 0;
  QueryRequest* current_ = nullptr;
  std::vector<bool> prepared_;
  bool preparing_ = false;
  int results_seen_ = 0;
  QueryResult result_;
};

PgPool::PgPool(Poller& poller, std::string conninfo, int size, std::vector<std::string> statements)
    : poller_(poller), conninfo_(std::move(conninfo)), statements_(std::move(statements)) {
  for (int i = 0; i < size; ++i) conns_.push_back(std::make_unique<Conn>(*this));
}

PgPool::~PgPool() = default;

void PgPool::Open() {
  Nanos now = MonotonicClock::ReadNow();
  for (auto& c : conns_) c->Connect(now);
}

int PgPool::connected() const {
  return static_cast<int>(std::count_if(conns_.begin(), conns_.end(), [](const auto& c) {
    return c->state() == Conn::State::kIdle || c->state() == Conn::State::kBusy;
  }));
}

int PgPool::connecting() const {
  return static_cast<int>(std::count_if(conns_.begin(), conns_.end(),
                                        [](const auto& c) { return c->state() == Conn::State::kConnecting; }));
}

void PgPool::Submit(QueryRequest* q, Nanos now) {
  bool any_alive =
      std::any_of(conns_.begin(), conns_.end(), [](const auto& c) { return c->state() != Conn::State::kDown; });
  if (!any_alive && !last_error_.empty()) {
    // Every connection is down and the last attempt failed: fail now rather than queue
    // behind a reconnect that will most likely fail the same way.
    QueryResult r;
    r.failure = Failure::kConnect;
    r.error = last_error_;
    q->Done(std::move(r), now);
    return;
  }
  waiting_.push_back(q);
  Dispatch(now);
}

void PgPool::Dispatch(Nanos now) {
  for (auto& c : conns_) {
    if (waiting_.empty()) return;
    if (c->state() == Conn::State::kDown && c->retry_at() <= now) c->Connect(now);
    if (c->state() != Conn::State::kIdle) continue;
    QueryRequest* q = waiting_.front();
    waiting_.pop_front();
    c->Run(q, now);
  }
}

void PgPool::FailWaiting(const std::string& message, Nanos now) {
  bool any_alive =
      std::any_of(conns_.begin(), conns_.end(), [](const auto& c) { return c->state() != Conn::State::kDown; });
  if (any_alive) return;  // another connection may still serve them
  std::deque<QueryRequest*> failed;
  failed.swap(waiting_);
  for (QueryRequest* q : failed) {
    QueryResult r;
    r.failure = Failure::kConnect;
    r.error = message;
    q->Done(std::move(r), now);
  }
}

void PgPool::Cancel(QueryRequest* q) {
  auto it = std::find(waiting_.begin(), waiting_.end(), q);
  if (it != waiting_.end()) {
    waiting_.erase(it);
    return;
  }
  for (auto& c : conns_) {
    if (c->current() == q) c->Drop(MonotonicClock::ReadNow());
  }
}

void PgPool::Scan(Nanos now) {
  for (auto& c : conns_) {
    if (c->state() == Conn::State::kDown && c->retry_at() <= now) c->Connect(now);
  }
  Dispatch(now);
}

}  // namespace loadcell::pg
