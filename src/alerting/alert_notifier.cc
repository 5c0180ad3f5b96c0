#include "alerting/alert_notifier.h"

#include <chrono>

#include <fmt/format.h>

#include "common/redact.h"

namespace loadcell {
namespace {

// A firing alert is sent again this often, and Alertmanager holds it this long past the
// last send: if loadcell dies mid-run, its alerts resolve by themselves.
constexpr double kResendS = 15;
constexpr double kHoldS = 60;
constexpr size_t kMaxQueued = 256;

double NowUnix() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

}  // namespace

AlertNotifier::AlertNotifier(const TestDefinition& def, AlertTargets targets)
    : def_(def), targets_(std::move(targets)), watch_(def, true, static_cast<double>(def.alerting.window) / 1e9) {
  targets_.http.user_agent = "loadcell-alerts";
  sender_ = std::thread([this] { Send(); });
}

AlertNotifier::~AlertNotifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  sender_.join();
}

LiveAlert AlertNotifier::AlertOf(size_t k, const ThresholdOutcome& o, double now_unix) const {
  LiveAlert a;
  a.labels = targets_.labels;
  a.labels["alertname"] = "LoadcellThreshold";
  a.labels["test"] = def_.name.empty() ? "loadcell" : def_.name;
  a.labels["threshold"] = o.key;
  a.labels["expr"] = o.expr;
  a.labels["severity"] = std::string(SeverityName(o.severity));
  if (o.windowed()) {
    a.labels["window"] = o.during_to == kOpenEnd ? "from " + FormatInstant(o.during_from)
                                                 : FormatInstant(o.during_from) + "-" + FormatInstant(o.during_to);
  }
  if (auto sel = ParseMetricSelector(o.key); sel.ok() && sel->tags.count("scenario") != 0) {
    a.labels["scenario"] = sel->tags.at("scenario");
  }
  const State& s = states_[k];
  a.annotations["summary"] = fmt::format("{}: {} crossed on the last {} of the run (observed {:g})", o.key,
                                         DescribeExpr(o), FormatInstant(def_.alerting.window), s.observed);
  a.annotations["observed"] = fmt::format("{:g}", s.observed);
  a.starts_unix = s.since_unix;
  a.ends_unix = now_unix + kHoldS;
  return a;
}

void AlertNotifier::OnSecond(const SeriesPoint& point, const MetricStore& interval) {
  watch_.OnSecond(point, interval);
  std::vector<ThresholdOutcome> now = watch_.Recent();
  if (states_.empty()) states_.resize(now.size());
  const double now_unix = NowUnix();
  const double at_s = watch_.elapsed_s();
  std::vector<LiveAlert> batch;
  for (size_t k = 0; k < now.size(); ++k) {
    const ThresholdOutcome& o = now[k];
    State& s = states_[k];
    const bool crossed = !o.ok && !o.no_data;
    if (crossed && !s.firing) {
      s = {true, now_unix, now_unix, at_s, o.observed};
      ++fired_;
      batch.push_back(AlertOf(k, o, now_unix));
      history_.push_back(
          fmt::format("alert: {}: {} crossed at {:.0f}s (observed {:g})", o.key, DescribeExpr(o), at_s, o.observed));
    } else if (crossed && now_unix - s.sent_unix >= kResendS) {
      s.sent_unix = now_unix;
      s.observed = o.observed;
      batch.push_back(AlertOf(k, o, now_unix));
    } else if (!crossed && s.firing) {
      LiveAlert a = AlertOf(k, o, now_unix);
      a.resolved = true;
      a.ends_unix = now_unix;
      s.firing = false;
      batch.push_back(std::move(a));
      history_.push_back(fmt::format("alert: {}: {} cleared at {:.0f}s, after {:.0f}s", o.key, DescribeExpr(o), at_s,
                                     at_s - s.since_s));
    }
  }
  last_ = std::move(now);
  if (!batch.empty()) Queue(std::move(batch));
}

void AlertNotifier::Finish(Nanos wait) {
  // The test is over: what still fires is resolved now (the run's verdict says the rest).
  const double now_unix = NowUnix();
  std::vector<LiveAlert> batch;
  for (size_t k = 0; k < states_.size() && k < last_.size(); ++k) {
    if (!states_[k].firing) continue;
    LiveAlert a = AlertOf(k, last_[k], now_unix);
    a.resolved = true;
    a.ends_unix = now_unix;
    a.annotations["summary"] += "; resolved: the test ended";
    states_[k].firing = false;
    batch.push_back(std::move(a));
    history_.push_back(
        fmt::format("alert: {}: {} still crossed when the test ended", last_[k].key, DescribeExpr(last_[k])));
  }
  if (!batch.empty()) Queue(std::move(batch));
  std::unique_lock<std::mutex> lock(mu_);
  if (!idle_.wait_for(lock, std::chrono::nanoseconds(wait), [this] { return queue_.empty() && !busy_; })) {
    failures_.push_back(fmt::format("alerts: {} notification(s) not delivered when the run ended (receivers too slow)",
                                    queue_.size() + (busy_ ? 1 : 0)));
  }
}

std::vector<std::string> AlertNotifier::TakeNotes() {
  std::vector<std::string> out = std::move(history_);
  std::lock_guard<std::mutex> lock(mu_);
  if (dropped_ > 0) {
    out.push_back(fmt::format("alerts: {} notification(s) dropped: the receivers fell behind", dropped_));
  }
  for (std::string& f : failures_) out.push_back(std::move(f));
  failures_.clear();
  return out;
}

void AlertNotifier::Queue(std::vector<LiveAlert> batch) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= kMaxQueued) {
      queue_.pop_front();  // the oldest news goes first: a later batch says where things stand
      ++dropped_;
    }
    queue_.push_back(std::move(batch));
  }
  wake_.notify_all();
}

void AlertNotifier::Send() {
  HttpGetter http(targets_.http);
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    std::vector<LiveAlert> batch = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    auto post = [&http, this](const std::string& url, const std::string& body) {
      // A few tries, close together: a live alert late by seconds is still useful, by minutes not.
      std::string why;
      for (int attempt = 0; attempt < 3; ++attempt) {
        if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
        auto answer = http.Post(url, body, "application/json");
        if (answer.ok() && answer->status >= 200 && answer->status <= 299) return;
        why = answer.ok() ? fmt::format("HTTP status {}", answer->status) : answer.error().message;
      }
      NoteFailure(url, why);
    };
    for (const std::string& base : targets_.alertmanagers) {
      std::string root = base;
      while (!root.empty() && root.back() == '/') root.pop_back();
      post(root + "/api/v2/alerts", AlertmanagerBody(batch));
    }
    for (const std::string& url : targets_.webhooks) post(url, WebhookBody(batch));
    lock.lock();
    busy_ = false;
    idle_.notify_all();
  }
}

void AlertNotifier::NoteFailure(const std::string& url, const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  if (failed_urls_.insert(url + "\n" + why).second) {
    failures_.push_back(fmt::format("alerts: cannot notify {}: {}", RedactUrl(url), why));
  }
}

}  // namespace loadcell
