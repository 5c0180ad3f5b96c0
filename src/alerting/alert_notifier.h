// Live alerts: every threshold judged on the last `alerting.window` of the run at each
// complete second; a crossing raises an alert at once and its clearing resolves it, sent
// to Alertmanager's API and to webhooks on a thread of its own (a slow or unreachable
// receiver delays nothing: the queue is bounded, what it drops is counted). The verdict of
// the run stays the thresholds' end-of-run judgement; alerts say what happens meanwhile.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "alerting/alert_payload.h"
#include "engine/threshold_watch.h"
#include "monitor/http_get.h"

namespace loadcell {

struct AlertTargets {
  std::vector<std::string> alertmanagers;  // base URLs
  std::vector<std::string> webhooks;
  std::map<std::string, std::string> labels;  // added to every alert (the test's, generator)
  HttpGetOptions http;
};

class AlertNotifier : public RunObserver {
 public:
  // `def` must outlive the notifier.
  AlertNotifier(const TestDefinition& def, AlertTargets targets);
  ~AlertNotifier() override;  // stops the sender (Finish first to deliver what is queued)
  AlertNotifier(const AlertNotifier&) = delete;
  AlertNotifier& operator=(const AlertNotifier&) = delete;

  void OnStart(double start_wall) override { start_wall_ = start_wall; }
  void OnSecond(const SeriesPoint& point, const MetricStore& interval) override;

  // The run is over: every alert still firing is resolved, and what is queued is sent,
  // waiting at most `wait` for the receivers.
  void Finish(Nanos wait);
  // For the run's notes: each alert (when it fired and cleared), and delivery failures.
  std::vector<std::string> TakeNotes();
  int64_t fired() const { return fired_; }

 private:
  struct State {
    bool firing = false;
    double since_unix = 0, sent_unix = 0, since_s = 0, observed = 0;
  };
  LiveAlert AlertOf(size_t k, const ThresholdOutcome& o, double now_unix) const;
  void Queue(std::vector<LiveAlert> batch);
  void Send();
  void Deliver(const std::vector<LiveAlert>& batch);
  void NoteFailure(const std::string& url, const std::string& why);

  const TestDefinition& def_;
  AlertTargets targets_;
  ThresholdWatch watch_;
  std::vector<State> states_;
  std::vector<ThresholdOutcome> last_;
  double start_wall_ = 0;
  int64_t fired_ = 0;
  std::vector<std::string> history_;  // what fired and cleared, when (coordinator thread)

  std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<std::vector<LiveAlert>> queue_;
  bool busy_ = false, stop_ = false;
  int64_t dropped_ = 0;
  std::vector<std::string> failures_;
  std::set<std::string> failed_urls_;
  std::thread sender_;
};

}  // namespace loadcell
