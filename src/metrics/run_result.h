// The one immutable description of a finished run. Every output (console summary,
// summary export, JSON, interval log) is a view of a RunResult and never reaches into the
// engine; the engine builds it once, at the end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "metrics/shard.h"

namespace loadcell {

struct QuickMeta {
  std::string version;
  std::string command_line;
  std::string hostname;
  std::string url;
  std::string method;
  std::string mode;  // "closed" or "open"
  int connections = 0;
  int threads = 0;
  double rate = 0;  // open model: target requests per second
  Nanos duration = 0;
  Nanos warmup = 0;
  Nanos timeout = 0;
  Nanos grace = 0;
  uint64_t seed = 0;
  double start_wall = 0;  // seconds since the epoch
  double end_wall = 0;
};

// What a second keeps of the Counters: not the 600 status slots (4.7 KiB a second).
struct SecondCounters {
  int64_t requests = 0, failed = 0, failures = 0, bytes_in = 0, bytes_out = 0;
  void Add(const SecondCounters& o) {
    requests += o.requests;
    failed += o.failed;
    failures += o.failures;
    bytes_in += o.bytes_in;
    bytes_out += o.bytes_out;
  }
};

// One second of the run (the last one may be shorter: it holds the grace period). Long
// runs merge older seconds into longer intervals (AppendBounded in metrics/series.h).
struct QuickSecond {
  int64_t second = 0;  // from the start of measurement
  double start_s = 0;  // offset of the interval from the start of measurement
  double length_s = 1;
  SecondCounters counters;
  int64_t inflight = 0;
  int64_t p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0;
  std::string duration_hdr;  // the interval's http_req_duration histogram, V2 base64
};

struct RunResult {
  QuickMeta meta;
  Shard totals;
  std::vector<QuickSecond> series;
  double measured_s = 0;           // length of the measured window, for rates
  std::vector<double> worker_cpu;  // fraction of one core each worker used
  std::vector<std::string> warnings;
  bool interrupted = false;

  bool open_model() const { return meta.mode == "open"; }
  double request_rate() const {
    return measured_s > 0 ? static_cast<double>(totals.counters.requests) / measured_s : 0;
  }
};

}  // namespace loadcell
