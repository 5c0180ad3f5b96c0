#include "monitor/remote_monitor.h"

#include <fmt/format.h>

#include "common/redact.h"

namespace loadcell {
namespace {

std::vector<std::regex> Compile(const std::vector<std::string>& patterns) {
  std::vector<std::regex> out;
  for (const std::string& p : patterns) out.emplace_back(p, std::regex::ECMAScript);  // checked by the loader
  return out;
}

}  // namespace

RemoteMonitor::RemoteMonitor(std::vector<ScrapeTarget> scrapes, Nanos interval) : interval_(interval) {
  for (ScrapeTarget& t : scrapes) {
    auto http = std::make_unique<HttpGetter>(t.http);
    ScrapeConverter converter(Compile(t.families));
    sources_.push_back({std::move(t), std::move(http), std::move(converter), {}});
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
  if (sources_.empty()) return;
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
    auto body = s.http->Get(s.target.url);
    Result<PromExposition> parsed = body.ok() ? ParsePromText(*body) : Result<PromExposition>(body.error());
    double now_s = static_cast<double>(MonotonicClock::ReadNow()) / 1e9;
    std::map<std::string, double> gauges;
    if (parsed.ok()) gauges = s.converter.Convert(*parsed, now_s);
    std::lock_guard<std::mutex> lock(mu_);
    s.latest = std::move(gauges);
    if (!parsed.ok()) {
      ++failures_;
      std::string key = s.target.url + "\n" + parsed.error().message;
      if (noted_.insert(key).second) {
        notes_.push_back(fmt::format("monitor scrape {}: {}", RedactUrl(s.target.url), parsed.error().message));
      }
    }
  }
}

std::map<std::string, double> RemoteMonitor::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, double> out;
  for (const Source& s : sources_) out.insert(s.latest.begin(), s.latest.end());
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
