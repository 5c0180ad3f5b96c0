// `loadcell quick URL`: the test its flags describe, as a TestDefinition that runs on the
// one engine like a test file does, and so gives the same RunResults.
//
// Closed model (no rate): constant-vus, one VU per connection (HTTP/2: per stream, the
// streams of `streams` VUs sharing a connection). Open model (a rate): constant-arrival-
// rate with as many VUs as connections (HTTP/2: connections x streams) whose arrivals wait
// for a free VU in order (wrk2's model: latency counts from the intended time, a slow
// server shows in the percentiles) rather than being dropped (k6's).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "net/url.h"
#include "scenario/definition.h"

namespace loadcell {

struct QuickOptions {
  Url url;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int connections = 10;
  Nanos duration = 10 * kSecond;
  Nanos timeout = 10 * kSecond;
  Nanos grace = 10 * kSecond;
  double rate = 0;  // 0: closed model
  bool h2 = false;
  int streams = 1;  // HTTP/2: concurrent streams per connection
};

TestDefinition QuickDefinition(const QuickOptions& o);

}  // namespace loadcell
