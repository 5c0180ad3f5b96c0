// Resource monitoring from /proc, sampled once per second by the run's coordinator: the
// target processes (by pid, or by name; their children included), the host, and loadcell
// itself. Samples become gauges (thresholds), per-second series (results, report charts)
// and Prometheus metrics. Reading /proc is cheap and needs nothing on the target.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace loadcell {

struct ProcessSelector {
  int64_t pid = 0;   // a process id, or
  std::string name;  // a command name (comm or argv[0]'s basename)
};

class ProcMonitor {
 public:
  explicit ProcMonitor(std::vector<ProcessSelector> targets);

  // One sample, `now_s` on a monotonic clock. Gauges:
  //   target_cpu (% of one core), target_rss (bytes), target_threads, target_fds,
  //   target_read_bytes / target_write_bytes (per second), target_processes,
  //   host_cpu (% of all cores), host_memory (bytes in use), host_net_rx / host_net_tx
  //   (bytes per second), generator_cpu (% of one core), generator_rss (bytes).
  // Rates need two samples: the first call returns the levels only.
  std::map<std::string, double> Sample(double now_s);

  // Processes the selectors match now (children included).
  std::vector<int> Resolve() const;
  bool has_targets() const { return !targets_.empty(); }

 private:
  std::vector<ProcessSelector> targets_;
  double last_s_ = -1;
  std::map<int, double> last_ticks_;  // pid -> utime+stime (ticks)
  double last_self_ticks_ = 0;
  double last_io_read_ = -1, last_io_write_ = -1;
  double last_host_busy_ = 0, last_host_total_ = 0;
  double last_rx_ = -1, last_tx_ = -1;
};

}  // namespace loadcell
