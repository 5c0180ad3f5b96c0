// `quick`: runs one load test: resolves the target once, compiles nothing itself (it receives the
// request bytes), starts one Worker per thread, merges their per-second snapshots into
// the series and the totals, and returns the RunResult.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "metrics/run_result.h"
#include "net/url.h"
#include "protocol/http2/h2_connection.h"

namespace loadcell {

struct QuickPlan {
  Url url;
  std::string method = "GET";
  std::string request;                      // compiled request bytes (HTTP/1.1)
  std::optional<h2::H2Request> h2_request;  // set: HTTP/2 (ALPN "h2" over TLS, prior knowledge in clear)
  int streams = 1;                          // HTTP/2: concurrent streams per connection
  int connections = 10;
  int threads = 1;
  Nanos duration = 10 * kSecond;
  Nanos warmup = 0;
  Nanos timeout = 10 * kSecond;
  Nanos grace = 10 * kSecond;
  double rate = 0;  // 0: closed model
  bool insecure = false;
  uint64_t seed = 0;
  HistogramSpec histograms;
  std::string command_line;
};

// Called on the collecting thread as each second completes.
using LiveFn = std::function<void(const QuickSecond&)>;

// Errors are set-up failures (name resolution, TLS context); a target that refuses or
// fails requests is a result, not an error.
Result<RunResult> ExecuteRun(const QuickPlan& plan, const std::atomic<bool>& interrupted, const LiveFn& live);

}  // namespace loadcell
