#include "monitor/remote_monitor.h"

#include <chrono>

#include <fmt/format.h>

#include "common/redact.h"
#include "monitor/prometheus_source.h"

namespace loadcell {
namespace {

std::vector<std::regex> Compile(const std::vector<std::string>& patterns) {
  std::vector<std::regex> out;
  for (const std::string& p : patterns) out.emplace_back(p, std::regex::ECMAScript);  // checked by the loader
  return out;
}

}  // namespace

RemoteMonitor::RemoteMonitor(RemoteSources sources, Nanos interval) : interval_(interval) {
  for (ScrapeTarget& t : sources.scrapes) {
    auto http = std::make_unique<HttpGetter>(t.http);
    ScrapeConverter converter(Compile(t.families));
    sources_.push_back({std::move(t), std::move(http), std::move(converter), {}});
  }
  for (PromQueryTarget& t : sources.prometheus) {
    auto http = std::make_unique<HttpGetter>(t.http);
    queries_.push_back({std::move(t), std::move(http), {}});
  }
  for (PgStatsTarget& t : sources.postgres) {
    auto source = std::make_unique<PgStatsSource>(t.url, t.statements);
    databases_.push_back({std::move(t), std::move(source), {}});
  }
}

RemoteMonitor::~RemoteMonitor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RemoteMonitor::Start() {
  if (sources_.empty() && queries_.empty() && databases_.empty()) return;
  ReadAll();
  thread_ = std::thread([this] { Loop(); });
}

void RemoteMonitor::Loop() {
  Nanos next = MonotonicClock::ReadNow() + interval_;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    Nanos wait = next - MonotonicClock::ReadNow();
    if (wake_.wait_for(lock, std::chrono::nanoseconds(std::max<Nanos>(wait, 0)), [this] { return stop_; })) return;
    lock.unlock();
    ReadAll();
    lock.lock();
    // On the interval's grid: a slow read shortens the next wait rather than shifting
    // every later reading.
    next += interval_;
    Nanos now = MonotonicClock::ReadNow();
    if (next <= now) next = now + interval_;
  }
}

void RemoteMonitor::ReadAll() {
  for (Source& s : sources_) {
    auto body = s.http->GetBody(s.target.url);
    Result<PromExposition> parsed = body.ok() ? ParsePromText(*body) : Result<PromExposition>(body.error());
    double now_s = static_cast<double>(MonotonicClock::ReadNow()) / 1e9;
    std::map<std::string, double> gauges;
    if (parsed.ok()) gauges = s.converter.Convert(*parsed, now_s);
    std::lock_guard<std::mutex> lock(mu_);
    s.latest = std::move(gauges);
    if (!parsed.ok()) Note(fmt::format("scrape {}", RedactUrl(s.target.url)), parsed.error().message);
  }
  // Each query at this instant (wall-clock, as Prometheus's own timestamps are).
  const double unix_s = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (QuerySource& q : queries_) {
    std::map<std::string, double> gauges;
    std::vector<std::pair<std::string, std::string>> failed;
    for (const auto& [name, query] : q.target.queries) {
      auto answer = q.http->Get(PromQueryUrl(q.target.url, query, unix_s));
      auto got = answer.ok() ? PromQueryGauges(name, answer->status, answer->body)
                             : Result<std::map<std::string, double>>(answer.error());
      if (got.ok())
        gauges.merge(std::move(got).value());
      else
        failed.emplace_back(name, got.error().message);
    }
    std::lock_guard<std::mutex> lock(mu_);
    q.latest = std::move(gauges);
    for (const auto& [name, message] : failed) {
      Note(fmt::format("prometheus {} query {}", RedactUrl(q.target.url), name), message);
    }
  }
  for (PgSource& d : databases_) {
    auto gauges = d.source->Read(static_cast<double>(MonotonicClock::ReadNow()) / 1e9);
    std::string note = d.source->TakeNote();
    std::lock_guard<std::mutex> lock(mu_);
    const std::string what = fmt::format("postgres {}", RedactUrl(d.target.url));
    if (gauges.ok()) {
      d.latest = std::move(gauges).value();
    } else {
      d.latest.clear();
      Note(what, gauges.error().message);
    }
    if (!note.empty() && noted_.insert(what + "\n" + note).second)
      notes_.push_back(fmt::format("monitor {}: {}", what, note));
  }
}

void RemoteMonitor::Note(const std::string& what, const std::string& message) {
  ++failures_;
  // The message without the URL (a query's URL holds the instant): one note per kind of failure.
  if (noted_.insert(what + "\n" + message).second) notes_.push_back(fmt::format("monitor {}: {}", what, message));
}

std::map<std::string, double> RemoteMonitor::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, double> out;
  for (const Source& s : sources_) out.insert(s.latest.begin(), s.latest.end());
  for (const QuerySource& q : queries_) out.insert(q.latest.begin(), q.latest.end());
  for (const PgSource& d : databases_) out.insert(d.latest.begin(), d.latest.end());
  return out;
}

std::vector<std::string> RemoteMonitor::TakeNotes() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(notes_);
}

int64_t RemoteMonitor::failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

}  // namespace loadcell
