#include "scenario/loader.h"
#include "common/rng.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace loadcell {
namespace {

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("loadcell-loader-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "users.csv") << "name,password\nann,a1\nbob,b2\n";
    options_.use_process_env = false;
    options_.env = {{"BASE", "http://127.0.0.1:8080"}};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Result<TestDefinition> Load(const std::string& yaml) {
    return LoadTestText(yaml, (dir_ / "test.yaml").string(), options_);
  }
  // The error with the temporary directory cut off: "test.yaml:3:5: ...".
  std::string ErrorOf(const std::string& yaml) {
    auto r = Load(yaml);
    if (r.ok()) return "(loaded)";
    std::string m = r.error().message;
    std::string prefix = dir_.string() + "/";
    return m.starts_with(prefix) ? m.substr(prefix.size()) : m;
  }

  std::filesystem::path dir_;
  LoadOptions options_;
};

// The spec's own example, verbatim apart from the target: it must load.
constexpr const char* kSpecExample = R"(name: metrics-api
target: ${BASE}
defaults:
  headers: { Accept: application/json }
  timeout: 5s
vars:
  tenants: 50
data:
  users: { file: users.csv, mode: sequential }
scenarios:
  api:
    executor: ramping-arrival-rate
    start_rate: 10
    time_unit: 1s
    pre_allocated_vus: 50
    max_vus: 500
    stages:
      - { duration: 30s, target: 200 }
      - { duration: 2m,  target: 200 }
      - { duration: 10s, target: 0 }
    tags: { tenant: "t{{ vu % vars.tenants }}" }
    flow:
      - request:
          name: login
          method: POST
          url: /api/v1/auth/login
          json: { user: "{{ data.users.name }}", password: "{{ data.users.password }}" }
          capture:
            - { json: "$.token", as: token }
          check:
            - { status: 200 }
      - pick:
          - weight: 30
            request: { name: similarity, method: POST, url: /similarity, json: { a: "x", b: "y" } }
          - weight: 70
            request:
              name: rerank
              method: POST
              url: /rerank
              headers: { Authorization: "Bearer {{ token }}" }
              json: { batch: "{{ random_int(10, 100) }}" }
              check: [ { status: [200, 201] }, { max_duration: 500ms } ]
      - think: { min: 500ms, max: 2s }
thresholds:
  http_req_duration: ["p(95)<500", "p(99)<1500"]
  "http_req_duration{name:login}": ["p(99)<100"]
  http_req_failed: ["rate<0.01"]
  checks: [{ threshold: "rate>0.99", abort_on_fail: true, delay_abort_eval: 10s }]
)";

TEST_F(LoaderTest, SpecExampleLoads) {
  auto r = Load(kSpecExample);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const TestDefinition& d = *r;
  EXPECT_EQ(d.name, "metrics-api");
  EXPECT_EQ(d.target, "http://127.0.0.1:8080");
  EXPECT_EQ(*d.default_timeout, 5 * kSecond);
  ASSERT_EQ(d.data.size(), 1u);
  EXPECT_EQ(d.data[0].rows.size(), 2u);
  ASSERT_EQ(d.scenarios.size(), 1u);
  const ScenarioDef& s = d.scenarios[0];
  EXPECT_EQ(s.executor, ExecutorKind::kRampingArrivalRate);
  EXPECT_EQ(s.max_vus, 500);
  ASSERT_EQ(s.stages.size(), 3u);
  EXPECT_EQ(s.stages[1].duration, 120 * kSecond);
  ASSERT_EQ(s.flow.size(), 3u);
  const auto& login = std::get<RequestStep>(s.flow[0].body);
  EXPECT_EQ(login.name, "login");
  EXPECT_EQ(login.body_kind, RequestStep::Body::kJson);
  EXPECT_EQ(login.captures[0].as, "token");
  const auto& pick = std::get<PickStep>(s.flow[1].body);
  EXPECT_EQ(pick.weights, (std::vector<double>{30, 70}));
  const auto& rerank = std::get<RequestStep>(pick.choices[1].body);
  EXPECT_EQ(rerank.checks[0].statuses, (std::vector<int>{200, 201}));
  EXPECT_EQ(rerank.checks[0].label, "status in [200, 201]");
  EXPECT_EQ(rerank.checks[1].max_duration, 500 * kMilli);
  const auto& think = std::get<ThinkStep>(s.flow[2].body);
  EXPECT_EQ(think.kind, ThinkStep::Kind::kUniform);
  ASSERT_EQ(d.thresholds.size(), 4u);
  EXPECT_EQ(d.thresholds[1].selector.tags.at("name"), "login");
  EXPECT_TRUE(d.thresholds[3].exprs[0].abort_on_fail);
  EXPECT_EQ(d.thresholds[3].exprs[0].delay_abort_eval, 10 * kSecond);
}

TEST_F(LoaderTest, SecretVarsAndDatabasePasswordsAreSecrets) {
  options_.env["API_KEY"] = "k-123456";
  auto r = Load(R"(vars:
  tenants: 5
  api_key: { value: "${API_KEY}", secret: true }
  shown: { value: visible, secret: false }
databases:
  main: { url: "postgres://app:pg-pass@127.0.0.1:5432/app" }
  trust: { url: "postgres://app@127.0.0.1:5432/app" }
scenarios:
  s:
    executor: constant-vus
    vus: 1
    duration: 1s
    flow:
      - request: { url: "http://h/?k={{ vars.api_key }}" })");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->vars.at("api_key"), "k-123456");
  EXPECT_EQ(r->vars.at("shown"), "visible");
  EXPECT_EQ(r->secrets, (std::vector<std::string>{"k-123456", "pg-pass"}));
  EXPECT_EQ(ErrorOf("vars:\n  k: { secret: true }\n"), "test.yaml:2:6: vars.k: missing `value`");
  EXPECT_EQ(ErrorOf(R"(vars:
  k: { value: abcdef, secret: true }
scenarios:
  s:
    executor: constant-vus
    vus: 1
    duration: 1s
    tags: { who: "{{ vars.k }}" }
    flow:
      - request: { url: http://h/ })"),
            "test.yaml:8:18: scenarios.s.tags.who: `vars.k` is secret: a tag value would record it in every result");
  EXPECT_EQ(ErrorOf("vars:\n  k: { value: 1, secret: maybe }\n"),
            "test.yaml:2:26: vars.k.secret: expected true or false, got \"maybe\"");
}

TEST_F(LoaderTest, JsonBodiesKeepTypes) {
  auto r = Load(R"(scenarios:
  s:
    executor: constant-vus
    vus: 1
    duration: 1s
    flow:
      - request: { url: http://h/, method: post, json: { n: 3, f: 1.5, b: true, s: "3", t: "{{ vu }}" } })");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& req = std::get<RequestStep>(r->scenarios[0].flow[0].body);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.name, "POST http://h/");
  // The body as sent: key order as written, {{ vu }} a number, "3" a string.
  struct Vu : TemplateContext {
    bool Lookup(std::string_view name, std::string* out) const override {
      if (name != "vu") return false;
      *out = "7";
      return true;
    }
    bool LookupTyped(std::string_view name, std::string* out, bool* json) const override {
      *json = true;
      return Lookup(name, out);
    }
    Xoshiro256& Rng() override { return rng; }
    int64_t NowMs() const override { return 0; }
    Xoshiro256 rng;
  } vu;
  EXPECT_EQ(req.json.Render(vu).value(), R"({"n":3,"f":1.5,"b":true,"s":"3","t":7})");
}

// Golden validation messages: file:line:col: key.path: message.
TEST_F(LoaderTest, GoldenErrors) {
  const std::string head = "scenarios:\n  s:\n    executor: constant-vus\n    vus: 2\n";
  struct Case {
    std::string yaml, expected;
  };
  std::vector<Case> cases = {
      {"scenarios:\n  s:\n    executor: constant-vus\n    vus: 2\n    duraton: 10s\n    flow: [ { think: 1s } ]\n",
       "test.yaml:5:5: scenarios.s.duraton: unknown key `duraton` for executor constant-vus (did you mean "
       "`duration`?)"},
      {head + "    duration: -5s\n    flow: [ { think: 1s } ]\n",
       "test.yaml:5:15: scenarios.s.duration: invalid duration \"-5s\": must not be negative"},
      {head + "    duration: 10\n    flow: [ { think: 1s } ]\n",
       "test.yaml:5:15: scenarios.s.duration: invalid duration \"10\": missing unit (us, ms, s, m, h)"},
      {"scenarios:\n  s:\n    executor: constant-vus\n    vus: two\n    duration: 1s\n    flow: [ { think: 1s } ]\n",
       "test.yaml:4:10: scenarios.s.vus: expected an integer, got \"two\""},
      {"scenarios:\n  s:\n    executor: constant-vu\n",
       "test.yaml:3:15: scenarios.s.executor: unknown executor `constant-vu` (did you mean `constant-vus`?)"},
      {head + "    flow: [ { think: 1s } ]\n", "test.yaml:3:5: scenarios.s: executor constant-vus needs `duration`"},
      {"scenarios:\n  s:\n    executor: ramping-vus\n    stages: []\n    flow: [ { think: 1s } ]\n",
       "test.yaml:4:13: scenarios.s.stages: needs at least one stage"},
      {"scenarios:\n  s:\n    executor: ramping-vus\n    stages:\n      - { duration: 0s, target: 5 }\n    flow: [ { "
       "think: 1s } ]\n",
       "test.yaml:5:7: scenarios.s.stages: the stages last zero seconds in total"},
      {"scenarios:\n  s:\n    executor: ramping-vus\n    stages:\n      - { duration: 5s, target: -1 }\n    flow: [ { "
       "think: 1s } ]\n",
       "test.yaml:5:33: scenarios.s.stages[0].target: must be at least 0, got -1"},
      {"scenarios:\n  s:\n    executor: constant-arrival-rate\n    rate: 10\n    duration: 1s\n    pre_allocated_vus: "
       "10\n    max_vus: 5\n    flow: [ { think: 1s } ]\n",
       "test.yaml:7:14: scenarios.s.max_vus: max_vus (5) is below pre_allocated_vus (10)"},
      {head + "    duration: 1s\n    flow:\n      - request: { url: \"/x/{{ tokn }}\" }\n",
       "test.yaml:7:25: scenarios.s.flow[0].request.url: template names unknown variable `tokn` (not captured or set "
       "in "
       "this scenario, and not vars.*, env.*, data.*, vu, iteration, iteration_in_test or scenario)"},
      {head + "    duration: 1s\n    flow:\n      - request: { url: /x, capture: [ { json: $.token, as: token } ] }\n"
              "      - request: { url: \"/y/{{ tokn }}\" }\n",
       "test.yaml:8:25: scenarios.s.flow[1].request.url: template names unknown variable `tokn` (not captured or set "
       "in "
       "this scenario, and not vars.*, env.*, data.*, vu, iteration, iteration_in_test or scenario); did you mean "
       "`token`?"},
      {"data:\n  users: { file: users.csv }\n" + head +
           "    duration: 1s\n    flow:\n      - request: { url: \"/{{ data.users.nme }}\" }\n",
       "test.yaml:9:25: scenarios.s.flow[0].request.url: template names `data.users.nme`, but users.csv has no column "
       "`nme` (did you mean `data.users.name`?)"},
      {head + "    duration: 1s\n    flow:\n      - request: { url: \"/{{ vars.x }}\" }\n",
       "test.yaml:7:25: scenarios.s.flow[0].request.url: template names `vars.x`, but `vars` has no `x`"},
      {head + "    duration: 1s\n    flow:\n      - request: { url: \"/{{ random_int(1) }}\" }\n",
       "test.yaml:7:30: scenarios.s.flow[0].request.url: template: random_int() takes 2 arguments"},
      {head + "    duration: 1s\n    flow:\n      - reqest: { url: /x }\n",
       "test.yaml:7:9: scenarios.s.flow[0].reqest: unknown key `reqest` (a step is one of request, think, pick, loop, "
       "group, set, ws, sql, if, while, record) (did you mean `request`?)"},
      {head + "    duration: 1s\n    flow:\n      - think: { min: 2s, max: 1s }\n",
       "test.yaml:7:32: scenarios.s.flow[0].think.max: max is below min"},
      {"scenarios:\n  s:\n    executor: constant-vus\n    vus: 1\n    duration: 1s\n    flow:\n"
       "      - request: { url: /x }\n",
       "test.yaml:7:25: scenarios.s.flow[0].request.url: a relative URL needs the test's `target` (or give an "
       "absolute URL)"},
      {"vars: { h: x }\n" + head +
           "    duration: 1s\n    flow:\n      - ws: { url: \"ws://{{ vars.h }}:9/x\", steps: [ { close: {} } ] }\n",
       "test.yaml:8:20: scenarios.s.flow[0].ws.url: the scheme and host of a WebSocket URL cannot be templated (the "
       "connection is set up once per origin)"},
      {head + "    duration: 1s\n    flow:\n      - loop: { count: 2, max: 5, steps: [ { think: 1s } ] }\n",
       "test.yaml:7:32: scenarios.s.flow[0].loop.max: `max` caps a `while` loop; this loop has a `count`"},
      {head + "    duration: 1s\n    flow: [ { think: 1s } ]\nthresholds:\n  http_req_duraton: [\"p(95)<5\"]\n",
       "test.yaml:8:3: thresholds.http_req_duraton: unknown metric `http_req_duraton` (did you mean "
       "`http_req_duration`?)"},
      {head + "    duration: 1s\n    flow: [ { think: 1s } ]\nthresholds:\n  http_req_failed: [\"p(95)<5\"]\n",
       "test.yaml:8:21: thresholds.http_req_failed[0]: \"p(95)<5\" does not apply to this metric (use rate)"},
      {head + "    duration: 1s\n    flow: [ { think: 1s } ]\nthresholds:\n  http_reqs: [\"p95<5\"]\n",
       "test.yaml:8:15: thresholds.http_reqs[0]: invalid threshold \"p95<5\": unknown aggregation \"p95\" (expected "
       "like "
       "p(95)<500, avg<200, rate<0.01, count>10, growth<5%/h)"},
      {"target: ${NOPE}\n" + head,
       "test.yaml:1:9: target: environment variable NOPE is not set (set it, pass -e NOPE=..., or write "
       "${NOPE:-default})"},
      {"data:\n  users: { file: missing.csv }\n" + head,
       "test.yaml:2:18: data.users.file: cannot read data file " + dir_.string() + "/missing.csv"},
      {"scenarios:\n  s: [1, 2\n", "test.yaml:3:1: end of sequence flow not found"},
      {"name: x\n", "test.yaml:1:1: missing `scenarios`: a test needs at least one scenario"},
      {head + "    duration: 1s\n    flow:\n      - request: { url: /x, capture: [ { json: \"$.a[x]\", as: t } ] }\n",
       "test.yaml:7:53: scenarios.s.flow[0].request.capture[0].json: invalid JSONPath \"$.a[x]\": expected an index, "
       "'*' "
       "or a quoted name in [ ]"},
      {head + "    duration: 1s\n    flow:\n      - request: { url: /x, capture: [ { regex: \"id=(\", as: t } ] }\n",
       "test.yaml:7:49: scenarios.s.flow[0].request.capture[0].regex: invalid regular expression: Mismatched '(' and "
       "')' in regular expression"},
      {head + "    duration: 1s\n    flow:\n      - ws: { url: ws://h/ }\n",
       "test.yaml:7:13: scenarios.s.flow[0].ws: missing `steps` (send, receive, think, loop, close)"},
      {head + "    duration: 1s\n    flow:\n      - ws: { url: ws://h/, steps: [ { close: { code: 1006 } } ] }\n",
       "test.yaml:7:55: scenarios.s.flow[0].ws.steps[0].close.code: a client closes with 1000 or an application code "
       "3000-4999"},
      {head + "    duration: 1s\n    flow:\n      - sql: { db: main, query: 'select 1' }\n",
       "test.yaml:7:20: scenarios.s.flow[0].sql.db: no database `main` under `databases`"},
      {"databases: { main: { url: 'postgres://u@127.0.0.1/db' } }\n" + head +
           "    duration: 1s\n    flow:\n      - sql: { db: mian, query: 'select $1, $2', params: [a] }\n",
       "test.yaml:8:20: scenarios.s.flow[0].sql.db: no database `mian` under `databases` (did you mean `main`?)"},
      {"databases: { main: { url: 'postgres://u@127.0.0.1/db' } }\n" + head +
           "    duration: 1s\n    flow:\n      - sql: { db: main, query: 'select $1, $2', params: [a] }\n",
       "test.yaml:8:58: scenarios.s.flow[0].sql.params: the query uses $2 parameters but `params` has 1"},
      {"defaults: { http: { streams: 4 } }\n" + head + "    duration: 1s\n    flow: []\n",
       "test.yaml:1:30: defaults.http.streams: streams need `version: 2`"},
      {"defaults: { http: { version: 3 } }\n" + head + "    duration: 1s\n    flow: []\n",
       "test.yaml:1:30: defaults.http.version: expected 1.1 or 2, got \"3\""},
      {"databases: { main: { url: 'mysql://u@127.0.0.1/db' } }\n" + head + "    duration: 1s\n    flow: []\n",
       "test.yaml:1:27: databases.main.url: expected a postgres:// or postgresql:// URL"},
      {head + "    duration: 1s\n    flow: [ { think: 1s } ]\nthresholds:\n  http_req_sending: [\"p(95)<5\"]\n",
       "test.yaml:8:3: thresholds.http_req_sending: `http_req_sending` is not measured yet (k6 has it; loadcell "
       "records "
       "http_req_connecting, http_req_tls_handshaking and http_req_waiting)"},
      // Threshold filters that no sample can carry (#16): a green gate on no data.
      {head + "    duration: 1s\n    flow:\n      - group: { name: conflict, steps: [ { request: { name: put, url: /x "
              "} } ] }\n"
              "thresholds:\n  \"http_req_duration{group:conflict}\": [\"p(99)<1\"]\n",
       "test.yaml:9:3: thresholds.http_req_duration{group:conflict}: no group has the path `conflict` (did you mean "
       "`group:::conflict`?)"},
      {head + "    duration: 1s\n    flow:\n      - request: { name: login, url: /x }\n"
              "thresholds:\n  \"http_req_duration{name:logn}\": [\"p(99)<1\"]\n",
       "test.yaml:9:3: thresholds.http_req_duration{name:logn}: no step is named `logn` (did you mean `name:login`?)"},
      {head + "    duration: 1s\n    flow:\n      - request: { name: login, url: /x }\n"
              "thresholds:\n  \"http_reqs{scenario:t}\": [\"count>1\"]\n",
       "test.yaml:9:3: thresholds.http_reqs{scenario:t}: no scenario is named `t` (did you mean `scenario:s`?)"},
      {head + "    duration: 1s\n    flow:\n      - request: { name: login, url: /x, tags: { tenant: a } }\n"
              "thresholds:\n  \"http_reqs{tenat:a}\": [\"count>1\"]\n",
       "test.yaml:9:3: thresholds.http_reqs{tenat:a}: no sample carries the tag `tenat` (did you mean `tenant`?)"},
  };
  for (const Case& c : cases) EXPECT_EQ(ErrorOf(c.yaml), c.expected) << c.yaml;
}

TEST_F(LoaderTest, ThresholdFiltersThatCanOccurAreAccepted) {
  auto r = Load(R"(scenarios:
  s:
    executor: constant-vus
    vus: 1
    duration: 1s
    tags: { tenant: "t{{ vu }}" }
    flow:
      - group: { name: outer, steps: [ { group: { name: inner, steps: [ { request: { name: put, url: http://h/ } } ] } } ] }
strict_thresholds: true
thresholds:
  "http_req_duration{group:::outer::inner}": ["p(99)<100"]
  "http_req_duration{name:put,scenario:s,status:500}": ["p(99)<100"]
  "http_reqs{tenant:t3}": ["count>0"]
  "group_duration{group:::outer}": ["p(99)<100"]
)");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->strict_thresholds);
}

TEST_F(LoaderTest, EnvExpansionAndDefaults) {
  options_.env["RATE"] = "25";
  auto r = Load(
      "target: ${HOST:-http://localhost:1}\nscenarios:\n  s:\n    executor: constant-arrival-rate\n"
      "    rate: ${RATE}\n    duration: 1s\n    pre_allocated_vus: 2\n    flow:\n"
      "      - request: { url: \"/{{ env.RATE }}\" }\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->target, "http://localhost:1");
  EXPECT_DOUBLE_EQ(r->scenarios[0].rate, 25);
  EXPECT_EQ(r->scenarios[0].max_vus, 2);
}

TEST(Suggest, CloseWordsOnly) {
  EXPECT_EQ(Suggest("duraton", {"duration", "vus"}), "duration");
  EXPECT_EQ(Suggest("zzz", {"duration", "vus"}), "");
  EXPECT_EQ(Suggest("vu", {"duration", "vus"}), "vus");
}

}  // namespace
}  // namespace loadcell
