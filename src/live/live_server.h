// What a run shows while it goes on: `--prometheus ADDR` serves /metrics, `--dashboard
// ADDR` serves the live page (/), its data (/data), a server-sent event stream of updates
// (/events, one per second) and the HTML report (/report). Both read one LiveState that
// the coordinator refreshes once per second (RunObserver); the engine never sees them.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/result.h"
#include "engine/run_coordinator.h"
#include "results/run_results.h"

namespace loadcell::http {
class Server;
}

namespace loadcell {

class LiveServer : public RunObserver {
 public:
  struct Options {
    std::string prometheus;  // host:port, empty: off
    std::string dashboard;   // host:port, empty: off
    Tags labels;             // extra Prometheus labels (generator="2")
  };
  LiveServer(Options options, RunMeta meta);
  ~LiveServer() override;

  // Binds the listeners (an address in use is an error naming it) and starts serving.
  Status Start();
  void OnStart(double start_wall) override;
  void OnSecond(const SeriesPoint& point, const MetricStore& interval) override;
  // The run is over: the dashboard gets the final results and the report.
  void Finish(const RunResults& final_results);
  // Stops serving (after `linger`, or at once when `*interrupted` turns true).
  void Stop();
  void Linger(double seconds, const std::atomic<bool>& interrupted);

  // Bound ports (for ":0").
  int prometheus_port() const { return prometheus_port_; }
  int dashboard_port() const { return dashboard_port_; }

 private:
  Status Listen(http::Server& server, const std::string& address, const char* what, int* port);

  Options options_;
  RunResults live_;  // cumulative core metrics and the series so far (coordinator thread)
  std::unique_ptr<http::Server> prom_, dash_;
  int prometheus_port_ = 0, dashboard_port_ = 0;
  double last_cpu_ = 0, last_wall_ = 0;  // for the generator's CPU gauge

  std::mutex mu_;
  std::condition_variable changed_;
  std::string metrics_text_;  // latest /metrics body
  std::string data_json_;     // latest dashboard data
  std::string report_html_;   // set by Finish
  uint64_t version_ = 0;      // bumped by every new snapshot (OnSecond, Finish)
  bool stopping_ = false;
};

}  // namespace loadcell
