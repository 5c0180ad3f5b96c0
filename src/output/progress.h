// The progress display of `loadcell run`, on stderr: on a terminal, one line per scenario
// (bar, elapsed/planned, iterations) and a totals line (VUs, requests, rate, failures,
// p95), redrawn every second; otherwise a plain line every `plain_every` seconds, for CI
// logs. Fed by the coordinator's per-second points; never touches the engine.
#pragma once

#include <cstdio>
#include <map>
#include <string>

#include "engine/run_coordinator.h"
#include "results/run_results.h"

namespace loadcell {

class Progress : public RunObserver {
 public:
  Progress(const RunMeta& meta, FILE* out, bool terminal, int plain_every = 10);
  void OnSecond(const SeriesPoint& point, const MetricStore& interval) override;

  // The lines for the current state (exposed for tests).
  std::string Render() const;

 private:
  RunMeta meta_;
  FILE* out_;
  bool terminal_;
  int plain_every_;
  int drawn_lines_ = 0;
  double elapsed_ = 0;
  double vus_ = 0;
  int64_t reqs_ = 0, failed_ = 0, last_reqs_ = 0;
  double last_dur_ = 1, last_p95_ = 0;
  std::map<std::string, int64_t> iterations_;
  std::map<std::string, double> vus_by_scenario_;
};

}  // namespace loadcell
