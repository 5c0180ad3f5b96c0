// A loaded test prepared for running: request builders per request step, origins
// resolved once, and the state workers share (atomics touched once per iteration, never
// per request: shared-iterations and data feeder cursors).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "load/execution_segment.h"
#include "net/resolver.h"
#include "net/transport.h"
#include "protocol/http2/h2_connection.h"
#include "scenario/definition.h"
#include "scenario/request_builder.h"
#include "scenario/ws_builder.h"

namespace loadcell {

// The variables the test's setup captured or set: strings, and which of them are JSON.
struct SetupData {
  std::map<std::string, std::string> vars;
  std::set<std::string> json_vars;
};

struct RunOverrides {
  int64_t vus = 0;           // --vus (0: as written)
  Nanos duration = 0;        // --duration (0: as written)
  ExecutionSegment segment;  // --segment: this generator's share of the test
};

struct Origin {
  Url url;  // scheme, host, port
  Endpoint endpoint;
};

// A `ws` step's compiled upgrade request and the origin it connects to.
struct WsTarget {
  WsBuilder builder;
  int origin = -1;
};

struct TestPlan {
  TestDefinition def;
  std::vector<Origin> origins;
  std::unordered_map<const RequestStep*, RequestBuilder> builders;
  std::unordered_map<const RequestStep*, int> origin_of;
  std::unordered_map<const WsStep*, WsTarget> ws_targets;
  // defaults.http.version 2: requests without templates, compiled once for HTTP/2.
  std::unordered_map<const RequestStep*, h2::H2Request> h2_static;
  // `sql` steps: each database's statements (SQL text, prepared per connection) and the
  // index of each step's statement among them (equal texts share one).
  std::vector<std::vector<std::string>> sql_statements;
  std::unordered_map<const SqlStep*, int> sql_statement;
  std::unique_ptr<TlsContext> tls;
  std::unique_ptr<TlsContext> tls_h2;  // offers ALPN "h2" (defaults.http.version 2)
  Nanos default_timeout = 10 * kSecond;
  int threads = 1;
  uint64_t seed = 0;
  // This generator's share (load/execution_segment.h): VUs, iterations, arrivals and data
  // rows are its share of the whole test's, numbered as in the whole test.
  ExecutionSegment segment;
  // Thresholds with an abort_on_fail expression: evaluated every second while running.
  std::vector<const ThresholdDef*> abort_thresholds;
  // Shared between workers.
  std::unique_ptr<std::atomic<int64_t>[]> feeder_cursor;       // per data feeder
  std::unique_ptr<std::atomic<int64_t>[]> shared_iterations;   // per scenario
  std::unique_ptr<std::atomic<int64_t>[]> iterations_in_test;  // per scenario (iteration_in_test)
  // What the test's setup left (engine/lifecycle.h): every VU's `setup.NAME`.
  SetupData setup;
  bool keep_vars = false;  // a setup or teardown run: the VU's variables are its result
};

// Applies overrides, builds every request, resolves every origin.
Result<std::unique_ptr<TestPlan>> PrepareTest(TestDefinition def, const RunOverrides& overrides, int threads,
                                              uint64_t seed, bool insecure);

}  // namespace loadcell
