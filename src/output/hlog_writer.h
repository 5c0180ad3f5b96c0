// `--hlog F`: http_req_duration as an HdrHistogram interval log (format 1.3), one interval
// per second of the run, written as the run goes (each line flushed), so that HdrHistogram's
// own tools (HistogramLogProcessor, HdrHistogramVisualizer) read it and a killed run keeps
// every second it finished. Values in microseconds, Interval_Max in milliseconds.
#pragma once

#include <cstdio>
#include <string>

#include "common/result.h"
#include "engine/run_coordinator.h"

namespace loadcell {

class HlogWriter : public RunObserver {
 public:
  ~HlogWriter() override;
  Status Open(const std::string& path);
  void OnStart(double start_wall) override;
  void OnSecond(const SeriesPoint& point, const MetricStore& interval) override;
  // Closes the file; the first write error, if any, with its reason.
  Status Finish();

 private:
  void Write(const std::string& text);
  std::string path_;
  FILE* f_ = nullptr;
  std::string error_;
};

}  // namespace loadcell
