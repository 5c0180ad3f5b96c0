// Runs a prepared test: one VuWorker per thread, all released together by the start gate,
// their metric stores merged once at the end into a TestResult.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/run_plan.h"
#include "metrics/metric_store.h"
#include "metrics/series.h"

namespace loadcell {

struct TestResult {
  MetricStore store;
  double duration_s = 0;  // from the start to the last worker's end
  double start_wall = 0, end_wall = 0;
  int64_t vus_max = 0;
  int64_t interrupted_iterations = 0;
  int64_t render_failures = 0;
  std::vector<std::string> messages;
  bool interrupted = false;
  std::string aborted_by;           // "checks: rate>0.99 failed after 12s" when abort_on_fail fired
  std::string failure;              // the run could not go on (out of memory): it ended early
  std::vector<SeriesPoint> series;  // one point per second
  SetupData vars;                   // TestPlan::keep_vars: the variables the last iteration left
  int64_t completed_iterations = 0;
};

// Told about every second once all workers delivered it (on the coordinator thread, never
// on a worker's): the NDJSON stream, the live endpoints and the progress line hang here.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void OnStart(double /*start_wall*/) {}
  virtual void OnSecond(const SeriesPoint& point, const MetricStore& interval) = 0;
};

// `signals` counts SIGINT/SIGTERM: the first stops scheduling (running iterations get their
// graceful stop), the second cuts them at once; either way the result is complete.
// Sampled once per second by the coordinator (resource monitoring): gauges by name.
using ResourceSampler = std::function<std::map<std::string, double>(double now_s)>;

TestResult RunTest(const TestPlan& plan, const std::atomic<bool>& interrupted,
                   const std::atomic<int>* signals = nullptr, RunObserver* observer = nullptr,
                   const ResourceSampler& sampler = nullptr);

}  // namespace loadcell
