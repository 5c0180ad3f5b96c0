// The test definition model: what a YAML test file says (docs/test-definition.md),
// validated and with every template compiled. Built once by the loader, then read-only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "metrics/catalog.h"
#include "scenario/json_body.h"
#include "scenario/jsonpath.h"
#include "scenario/template.h"
#include "scenario/threshold.h"

namespace loadcell {

struct SourcePos {
  int line = 0;  // 1-based
  int col = 0;   // 1-based
};

using TemplatePairs = std::vector<std::pair<std::string, Template>>;

struct Capture {
  enum class Kind { kJson, kHeader, kRegex };
  Kind kind = Kind::kJson;
  std::string source;  // JSONPath, header name or regular expression
  std::string as;
  std::optional<JsonPath> path;             // kJson, parsed at load
  std::shared_ptr<const std::regex> regex;  // kRegex, compiled at load
};

struct Check {
  enum class Kind { kStatus, kBodyContains, kJson, kHeader, kMaxDuration };
  Kind kind = Kind::kStatus;
  std::vector<int> statuses;
  std::string subject;           // body text, JSON path or header name
  std::optional<JsonPath> path;  // kJson, parsed at load
  std::optional<std::string> equals;
  Nanos max_duration = 0;
  std::string label;  // its name, or its text ("status == 200")
};

struct RequestStep {
  std::string name;  // tag; default "METHOD url-template"
  std::string method = "GET";
  Template url;
  TemplatePairs headers;
  TemplatePairs query;
  enum class Body { kNone, kRaw, kJson, kForm };
  Body body_kind = Body::kNone;
  Template body;  // raw text
  JsonBody json;  // `json:`
  TemplatePairs form;
  std::optional<Nanos> timeout;
  std::map<std::string, std::string> tags;
  std::vector<Capture> captures;
  std::vector<Check> checks;
  // `tag_from`: a response value (header, JSON path, regex) as the tag `as` of its samples:
  // which instance answered.
  std::optional<Capture> tag_from;
  // The response is kept for the Lua expressions after it (status, headers, body, json).
  bool keep_response = false;
};

struct ThinkStep {
  enum class Kind { kFixed, kUniform, kExponential };
  Kind kind = Kind::kFixed;
  Nanos a = 0;  // fixed value, uniform min, exponential mean
  Nanos b = 0;  // uniform max
};

struct Step;
using Steps = std::vector<Step>;

struct PickStep {
  std::vector<double> weights;
  Steps choices;  // one step per weight
};

struct LoopStep {
  int64_t count = -1;                 // count form
  std::optional<Template> condition;  // while form
  int64_t max = 1000000;              // while form: upper bound of passes
  Steps steps;
};

struct GroupStep {
  std::string name;
  Steps steps;
};

struct SetStep {
  TemplatePairs values;
};

// `if: {cond, then, else}`: a Lua condition (Lua's truth: all but nil and false).
struct IfStep {
  Template cond;
  Steps then_steps, else_steps;
};

// `while: {cond, steps, max_iterations, timeout}`: passes while the Lua condition holds,
// at most max_iterations, until timeout (0: none). How it ended is counted in
// `while_exits{reason}` (condition, max_iterations, timeout), never as a failed request.
struct WhileStep {
  std::string name;  // the `name` tag of while_exits; default the condition
  Template cond;
  Steps steps;
  int64_t max_iterations = 1000000;
  Nanos timeout = 0;
};

// `record: {metric, value, tags}`: a sample of one of the test's own metrics (`metrics:`).
struct RecordStep {
  std::string metric;
  MetricType type = MetricType::kCounter;
  Template value;  // a Lua expression: a number (trend: milliseconds), or a boolean for a rate
  TemplatePairs tags;
};

// ---- WebSocket sessions ----------------------------------------------------------------
struct WsAction;
using WsActions = std::vector<WsAction>;

struct WsSend {
  Template text;  // a text message (templated)
  bool binary = false;
  std::string bytes;    // binary: decoded from base64 at load
  size_t fragment = 0;  // > 0: sent as frames of at most this many bytes (continuations)
};

struct WsReceive {
  Template match;                // substring the message must contain ("" = any message)
  std::optional<Nanos> timeout;  // default: the session's timeout
};

struct WsLoop {
  int64_t count = 1;
  WsActions steps;
};

struct WsClose {
  uint16_t code = 1000;
  std::string reason;
};

struct WsAction {
  SourcePos pos;
  std::variant<WsSend, WsReceive, ThinkStep, WsLoop, WsClose> body;
};

struct WsStep {
  std::string name;  // tag; default the URL template
  Template url;      // ws://, wss://, or a path relative to the test's target
  std::string url_text;
  TemplatePairs headers;
  std::vector<std::string> subprotocols;
  std::optional<Nanos> timeout;  // connect + handshake, and each receive unless it says
  size_t max_message = 16u << 20;
  std::map<std::string, std::string> tags;
  WsActions steps;
};

// ---- SQL -------------------------------------------------------------------------------
struct SqlCapture {
  std::string column;  // of the first row
  std::string as;
};

struct SqlCheck {
  int64_t rows = -1;  // exact number of rows returned (or affected, for INSERT/UPDATE/DELETE)
  Nanos max_duration = 0;
  std::string label;
};

struct SqlStep {
  std::string name;  // tag; default the query text
  std::string db;
  int db_index = -1;  // into TestDefinition::databases
  std::string query;  // $1.. placeholders; prepared once per connection
  std::vector<Template> params;
  std::optional<Nanos> timeout;
  std::map<std::string, std::string> tags;
  std::vector<SqlCapture> captures;
  std::vector<SqlCheck> checks;
};

struct DatabaseDef {
  SourcePos pos;
  std::string name;
  std::string url;    // postgres://user:password@host:port/db?... (${ENV} expanded)
  int64_t pool = 10;  // connections in total, over every worker thread
};

struct Step {
  SourcePos pos;
  std::variant<RequestStep, ThinkStep, PickStep, LoopStep, GroupStep, SetStep, WsStep, SqlStep, IfStep, WhileStep,
               RecordStep>
      body;
};

// Calls f(steps) for each list of steps inside `s`: a pick's choices, a loop's, a group's
// (f's second argument: the group's name, else nullptr), an if's branches, a while's body.
template <typename F>
void ForEachInnerSteps(const Step& s, F&& f) {
  if (const auto* p = std::get_if<PickStep>(&s.body)) {
    f(p->choices, nullptr);
  } else if (const auto* l = std::get_if<LoopStep>(&s.body)) {
    f(l->steps, nullptr);
  } else if (const auto* g = std::get_if<GroupStep>(&s.body)) {
    f(g->steps, &g->name);
  } else if (const auto* i = std::get_if<IfStep>(&s.body)) {
    f(i->then_steps, nullptr);
    f(i->else_steps, nullptr);
  } else if (const auto* w = std::get_if<WhileStep>(&s.body)) {
    f(w->steps, nullptr);
  }
}

struct Stage {
  Nanos duration = 0;
  double target = 0;
};

enum class ExecutorKind {
  kConstantVus,
  kRampingVus,
  kPerVuIterations,
  kSharedIterations,
  kConstantArrivalRate,
  kRampingArrivalRate,
  kCapacitySearch,
};
const char* ExecutorName(ExecutorKind k);

struct ScenarioDef {
  std::string name;
  SourcePos pos;
  ExecutorKind executor = ExecutorKind::kConstantVus;
  int64_t vus = 1;
  Nanos duration = 0;
  int64_t start_vus = 1;
  std::vector<Stage> stages;
  Nanos graceful_ramp_down = 30 * kSecond;
  int64_t iterations = 1;
  Nanos max_duration = 600 * kSecond;
  double rate = 0;
  double start_rate = 0;
  double max_rate = 0;
  double min_rate = 0;  // capacity-search: the lowest rate tried (0: start_rate / 16)
  Nanos time_unit = kSecond;
  Nanos step_duration = 0;
  int64_t pre_allocated_vus = 0;
  int64_t max_vus = 0;
  Nanos start_time = 0;
  Nanos graceful_stop = 30 * kSecond;
  // Arrival-rate executors: an arrival with no VU free waits for one, oldest first, its
  // wait counted in its latency (wrk2's model, for `quick -R`), instead of being dropped
  // (k6's). Not a key of the test file: only quick's generated test sets it.
  bool queue_arrivals = false;
  std::map<std::string, Template> tags;
  std::map<std::string, std::string> env;
  Steps flow;
  // `vu_init:` — run once by each VU before its first iteration (again if it did not
  // finish): one group step "vu_init", or empty. Its captures stay for the VU's iterations.
  Steps init;
  // Scenario tags whose templates change per iteration (iteration, iteration_in_test, a
  // function): rendered at each iteration's start.
  bool tags_per_iteration = false;
};

struct DataFeeder {
  enum class Mode { kSequential, kRandom, kUnique };
  std::string name;
  std::string file;  // as written in the test
  std::string path;  // resolved against the test file's directory
  Mode mode = Mode::kSequential;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

struct ThresholdDef {
  SourcePos pos;
  std::string key;  // as written
  MetricSelector selector;
  std::vector<ThresholdExpr> exprs;
  bool counter = false;  // the metric is a counter: no samples count 0 (k6), not "no data"
};

// How a monitor source's endpoint is asked: credentials, TLS, timeout.
struct MonitorHttpDef {
  std::string bearer_token, basic_user, basic_password;
  bool insecure_tls = false;
  Nanos timeout = 2 * kSecond;
};

// `monitor: scrape:` — a Prometheus/OpenMetrics text endpoint read every second.
struct MonitorScrapeDef {
  SourcePos pos;
  std::string url;
  std::vector<std::string> metrics;  // regular expressions over family names (empty: all)
  MonitorHttpDef http;
};

// `monitor: prometheus:` — PromQL queries evaluated every second against a Prometheus.
struct MonitorPrometheusDef {
  SourcePos pos;
  std::string url;
  std::map<std::string, std::string> queries;  // gauge name (monitor_<name>) -> PromQL
  MonitorHttpDef http;
};

// `monitor: postgres:` — a PostgreSQL server's own statistics read every second.
struct MonitorPostgresDef {
  SourcePos pos;
  std::string url;     // postgres://user:password@host:port/database
  int statements = 5;  // the slowest statements per second from pg_stat_statements (0: none)
};

// `monitor:` — processes to sample from /proc during the run (by pid or by name), and
// endpoints to scrape or ask.
struct MonitorDef {
  std::vector<int64_t> pids;
  std::vector<std::string> names;
  std::vector<MonitorScrapeDef> scrapes;
  std::vector<MonitorPrometheusDef> prometheus;
  std::vector<MonitorPostgresDef> postgres;
  std::vector<std::string> reactions;  // gauges timed after each load change (analysis/load_changes.h)
  Nanos interval = kSecond;
};

// `alerting:` — where a threshold crossing is sent while the run goes on (live alerts).
struct AlertingDef {
  std::vector<std::string> alertmanagers;  // base URLs: POST /api/v2/alerts
  std::vector<std::string> webhooks;       // URLs: POST of Alertmanager's webhook JSON
  Nanos window = 5 * kSecond;              // a live alert judges the last `window` of the run
  std::map<std::string, std::string> labels;
  bool any() const { return !alertmanagers.empty() || !webhooks.empty(); }
};

// `faults:` — injected by loadcell into its own connections, on the test's timeline
// (load/faults.h), so they need nothing from the target.
struct FaultDef {
  enum class Kind { kBlackhole, kLatency, kReset, kBandwidth };
  SourcePos pos;
  Kind kind = Kind::kBlackhole;
  Nanos at = 0, duration = 0;     // from the test's start
  Nanos latency = 0, jitter = 0;  // latency: each request held latency ± jitter (uniform)
  double probability = 1;         // reset: the share of requests whose connection is reset
  int64_t rate = 0;               // bandwidth: bytes per second per connection, received
  std::string scenario;           // only this scenario's VUs (empty: all)
};
inline const char* FaultKindName(FaultDef::Kind k) {
  switch (k) {
    case FaultDef::Kind::kBlackhole: return "blackhole";
    case FaultDef::Kind::kLatency: return "latency";
    case FaultDef::Kind::kReset: return "reset";
    case FaultDef::Kind::kBandwidth: return "bandwidth";
  }
  return "?";
}

struct TestDefinition {
  std::string file;
  std::string name;
  std::string target;
  TemplatePairs default_headers;
  std::optional<Nanos> default_timeout;
  int http_version = 1;            // defaults.http.version: 1 (HTTP/1.1) or 2
  int http_streams = 1;            // HTTP/2: VUs' requests sharing one connection at once
  bool strict_thresholds = false;  // a threshold with no data fails (else: "? no data")
  std::map<std::string, std::string> vars;
  std::set<std::string> json_vars;         // vars written as a number or boolean: typed in JSON bodies
  std::vector<std::string> secrets;        // values of `secret: true` vars, database passwords
  std::map<std::string, std::string> env;  // -e KEY=VALUE and the scenario-independent env
  std::vector<DataFeeder> data;
  std::vector<ScenarioDef> scenarios;
  std::vector<ThresholdDef> thresholds;
  MonitorDef monitor;
  AlertingDef alerting;
  bool has_alerting = false;
  std::vector<DatabaseDef> databases;
  std::vector<FaultDef> faults;
  bool has_monitor = false, has_faults = false, has_databases = false;
  // `script:` — a Lua file whose functions templates and expressions may call.
  std::string script_file;  // as written
  std::string script_path;  // resolved against the test file's directory
  std::string script_text;
  bool uses_lua = false;                // some template or step is a Lua expression
  bool uses_iteration_in_test = false;  // some template reads it (a shared counter per scenario)
  // `metrics:` — the test's own metrics (`record` steps), by name.
  std::map<std::string, MetricType> metrics;
  // `setup:` — steps run once before any VU starts; what they capture or set is every
  // VU's `setup.NAME`. `teardown:` — steps run once at the end (also after Ctrl-C).
  Steps setup, teardown;
};

}  // namespace loadcell
