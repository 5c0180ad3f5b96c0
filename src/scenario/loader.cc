#include "scenario/loader.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include "common/units.h"
#include "metrics/catalog.h"
#include "scenario/data_file.h"
#include "scenario/loader_parts.h"

namespace loadcell {

bool IsConfinedPath(const std::string& path) {
  if (path.empty() || path[0] == '/' || path.find('\0') != std::string::npos) return false;
  for (const auto& part : std::filesystem::path(path)) {
    if (part == ".." || part.empty()) return false;
  }
  return true;
}

bool IsCounterMetric(const std::string& name) {
  const MetricInfo* m = FindMetric(name);
  return m != nullptr && m->type == MetricType::kCounter;
}

namespace loading {

TestDefinition Loader::Load(const Node& root) {
  TestDefinition def;
  def.file = file_;
  if (!root.IsMap()) Fail(root, "", "a test definition must be a mapping (name, target, scenarios, ...)");
  CheckKeys(root, "",
            {"name", "target", "defaults", "vars", "data", "scenarios", "thresholds", "strict_thresholds", "monitor",
             "faults", "databases", "alerting", "script", "metrics", "setup", "teardown"});
  def.env = options_.env;
  def_ = &def;
  // The script and the test's metrics first: templates may call the script's functions,
  // and `record` steps name the metrics.
  if (Node sc = root["script"]) LoadScript(sc, def);
  if (Node m = root["metrics"]) LoadMetrics(m, def);
  if (root["name"]) def.name = String(root["name"], "name");
  if (root["target"]) {
    def.target = String(root["target"], "target");
    if (!def.target.starts_with("http://") && !def.target.starts_with("https://")) {
      Fail(root["target"], "target", fmt::format("\"{}\" must start with http:// or https://", def.target));
    }
  }
  if (Node vars = root["vars"]) {
    RequireMap(vars, "vars");
    for (const auto& kv : vars) {
      std::string key = kv.first.as<std::string>();
      std::string path = Join("vars", key);
      if (kv.second.IsMap()) {  // { value: ..., secret: true }
        CheckKeys(kv.second, path, {"value", "secret"});
        if (!kv.second["value"]) Fail(kv.second, path, "missing `value`");
        def.vars[key] = String(kv.second["value"], Join(path, "value"));
        if (kv.second["secret"] && Bool(kv.second["secret"], Join(path, "secret"))) {
          def.secrets.push_back(def.vars[key]);
          secret_vars_.insert("vars." + key);
        }
      } else {
        def.vars[key] = String(kv.second, path);
        if (IsPlainJsonScalar(kv.second)) def.json_vars.insert(key);
      }
    }
  }
  vars_ = &def.vars;
  target_ = &def.target;
  if (Node data = root["data"]) LoadData(data, def);
  data_ = &def.data;
  if (Node defaults = root["defaults"]) {
    RequireMap(defaults, "defaults");
    CheckKeys(defaults, "defaults", {"headers", "timeout", "http", "tag_from"});
    if (Node t = defaults["tag_from"]) default_tag_from_ = TagFrom(t, "defaults.tag_from");
    if (defaults["headers"]) def.default_headers = Pairs(defaults["headers"], "defaults.headers");
    if (defaults["timeout"]) def.default_timeout = Duration(defaults["timeout"], "defaults.timeout", false);
    if (Node http = defaults["http"]) {
      RequireMap(http, "defaults.http");
      CheckKeys(http, "defaults.http", {"version", "streams"});
      if (http["version"]) {
        std::string v = String(http["version"], "defaults.http.version");
        if (v == "1.1" || v == "1")
          def.http_version = 1;
        else if (v == "2" || v == "2.0")
          def.http_version = 2;
        else
          Fail(http["version"], "defaults.http.version", fmt::format("expected 1.1 or 2, got \"{}\"", v));
      }
      if (http["streams"]) {
        def.http_streams = static_cast<int>(Int(http["streams"], "defaults.http.streams", 1));
        if (def.http_version != 2) Fail(http["streams"], "defaults.http.streams", "streams need `version: 2`");
      }
    }
  }
  if (Node dbs = root["databases"]) LoadDatabases(dbs, def);
  databases_ = &def.databases;
  if (Node setup = root["setup"]) {
    // Its captures and sets are every VU's `setup.NAME`.
    defined_.clear();
    CollectDefinedNames(setup);
    setup_defined_ = defined_;
    def.setup = StepList(setup, "setup");
  }
  Node scenarios = root["scenarios"];
  if (!scenarios) Fail(root, "", "missing `scenarios`: a test needs at least one scenario");
  RequireMap(scenarios, "scenarios");
  if (scenarios.size() == 0) Fail(scenarios, "scenarios", "a test needs at least one scenario");
  for (const auto& kv : scenarios) {
    std::string name = kv.first.as<std::string>();
    def.scenarios.push_back(LoadScenario(kv.second, Join("scenarios", name), name));
    if (def.scenarios.back().executor == ExecutorKind::kCapacitySearch && scenarios.size() > 1) {
      // The search drives one scenario's rate step by step; others would blur its steps.
      Fail(kv.second["executor"], Join(Join("scenarios", name), "executor"),
           "capacity-search must be the test's only scenario");
    }
  }
  if (Node st = root["strict_thresholds"]) def.strict_thresholds = Bool(st, "strict_thresholds");
  // The monitor first: thresholds may name the gauges its sources make.
  def.has_monitor = static_cast<bool>(root["monitor"]);
  if (Node m = root["monitor"]) LoadMonitor(m, def);
  if (Node th = root["thresholds"]) {
    LoadThresholds(th, def);
    CheckThresholdFilters(th, def);
  }
  def.has_alerting = static_cast<bool>(root["alerting"]);
  if (Node a = root["alerting"]) LoadAlerting(a, def);
  def.has_faults = static_cast<bool>(root["faults"]);
  if (Node f = root["faults"]) LoadFaults(f, def);
  def.has_databases = static_cast<bool>(root["databases"]);
  if (Node teardown = root["teardown"]) {
    defined_.clear();
    CollectDefinedNames(teardown);
    scenario_env_.clear();
    def.teardown = StepList(teardown, "teardown");
  }
  if (relative_url_.has_value()) {
    Fail(relative_url_->first, relative_url_->second,
         "a relative URL needs the test's `target` (or give an absolute URL)");
  }
  def.uses_lua = uses_lua_;
  def.uses_iteration_in_test = uses_iteration_in_test_;
  if (uses_lua_) {
    // Lua expressions may read the last response: every request keeps its own.
    std::function<void(Steps&)> keep = [&](Steps& steps) {
      for (Step& st : steps) {
        if (auto* r = std::get_if<RequestStep>(&st.body)) r->keep_response = true;
        ForEachInnerSteps(st, [&](const Steps& inner, const std::string*) { keep(const_cast<Steps&>(inner)); });
      }
    };
    for (ScenarioDef& sc : def.scenarios) {
      keep(sc.init);
      keep(sc.flow);
    }
    keep(def.setup);
    keep(def.teardown);
  }
  return def;
}

void Loader::LoadMonitor(const Node& m, TestDefinition& def) {
  RequireMap(m, "monitor");
  CheckKeys(m, "monitor", {"processes", "scrape", "prometheus", "postgres", "reactions", "interval"});
  // A source is one endpoint (a mapping) or several (a list of them).
  auto one_or_many = [this](const Node& n, const std::string& path, const std::vector<std::string>& keys,
                            const std::function<void(const Node&, const std::string&)>& each) {
    if (n.IsMap())
      each(n, path);
    else
      EachMap(n, path, keys, each);
  };
  if (Node p = m["prometheus"]) {
    one_or_many(p, "monitor.prometheus", kPrometheusKeys, [&](const Node& item, const std::string& path) {
      def.monitor.prometheus.push_back(PrometheusSource(item, path, def));
    });
  }
  if (Node s = m["scrape"]) {
    one_or_many(s, "monitor.scrape", kScrapeKeys, [&](const Node& item, const std::string& path) {
      def.monitor.scrapes.push_back(Scrape(item, path, def));
    });
  }
  if (Node pg = m["postgres"]) {
    one_or_many(pg, "monitor.postgres", kPostgresKeys, [&](const Node& item, const std::string& path) {
      def.monitor.postgres.push_back(PostgresSource(item, path, def));
    });
  }
  if (Node ps = m["processes"]) {
    RequireSeq(ps, "monitor.processes");
    for (size_t i = 0; i < ps.size(); ++i) {
      std::string path = fmt::format("monitor.processes[{}]", i);
      Node p = ps[i];
      RequireMap(p, path);
      CheckKeys(p, path, {"pid", "name"});
      if (p["pid"] && p["name"]) Fail(p, path, "give either `pid` or `name`, not both");
      if (p["pid"]) {
        def.monitor.pids.push_back(Int(p["pid"], path + ".pid", 1));
      } else if (p["name"]) {
        def.monitor.names.push_back(String(p["name"], path + ".name"));
      } else {
        Fail(p, path, "a monitored process needs `pid` or `name`");
      }
    }
  }
  if (Node r = m["reactions"]) {
    RequireSeq(r, "monitor.reactions");
    for (size_t i = 0; i < r.size(); ++i) {
      std::string path = Index("monitor.reactions", i);
      std::string gauge = String(r[i], path);
      auto sel = ParseMetricSelector(gauge);
      if (!sel.ok()) Fail(r[i], path, sel.error().message);
      const MetricInfo* info = FindMetric(sel->metric);
      const bool gauge_metric =
          sel->metric.starts_with(kMonitorGaugePrefix) || (info != nullptr && info->type == MetricType::kGauge);
      if (!gauge_metric) {
        Fail(r[i], path,
             fmt::format("`{}` is not a gauge: reactions time gauges of the system (monitor_*, target_*, host_*)",
                         sel->metric));
      }
      def.monitor.reactions.push_back(gauge);
    }
  }
  if (m["interval"]) {
    def.monitor.interval = Duration(m["interval"], "monitor.interval", false);
    if (def.monitor.interval != kSecond)
      Fail(m["interval"], "monitor.interval", "only 1s is supported (the series is per second)");
  }
}

// A monitor endpoint's mapping checked against `keys`, and what every endpoint takes: its
// url, credentials, TLS, timeout.
std::string Loader::MonitorUrl(const Node& n, const std::string& path, const std::vector<std::string>& keys,
                               TestDefinition& def, MonitorHttpDef* http) {
  RequireMap(n, path);
  CheckKeys(n, path, keys);
  if (!n["url"]) Fail(n, path, "missing `url`: the endpoint's address, such as http://app:8080/metrics");
  std::string url = String(n["url"], Join(path, "url"));
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    Fail(n["url"], Join(path, "url"), "an http:// or https:// URL");
  }
  if (std::string pw = UrlPassword(url); !pw.empty()) def.secrets.push_back(pw);
  if (Node t = n["bearer_token"]) {
    http->bearer_token = String(t, Join(path, "bearer_token"));
    def.secrets.push_back(http->bearer_token);
  }
  if (Node b = n["basic"]) {
    std::string bp = Join(path, "basic");
    RequireMap(b, bp);
    CheckKeys(b, bp, {"user", "password"});
    if (!b["user"]) Fail(b, bp, "missing `user`");
    http->basic_user = String(b["user"], Join(bp, "user"));
    if (b["password"]) {
      http->basic_password = String(b["password"], Join(bp, "password"));
      def.secrets.push_back(http->basic_password);
    }
    if (!http->bearer_token.empty()) Fail(b, bp, "give either `bearer_token` or `basic`, not both");
  }
  if (Node i = n["insecure_tls"]) http->insecure_tls = Bool(i, Join(path, "insecure_tls"));
  if (Node t = n["timeout"]) http->timeout = Duration(t, Join(path, "timeout"), false);
  return url;
}

MonitorScrapeDef Loader::Scrape(const Node& n, const std::string& path, TestDefinition& def) {
  MonitorScrapeDef s;
  s.pos = PosOf(n);
  s.url = MonitorUrl(n, path, kScrapeKeys, def, &s.http);
  if (Node ms = n["metrics"]) {
    RequireSeq(ms, Join(path, "metrics"));
    for (size_t i = 0; i < ms.size(); ++i) {
      std::string mp = Index(Join(path, "metrics"), i);
      std::string pattern = String(ms[i], mp);
      try {
        std::regex check(pattern, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        Fail(ms[i], mp, fmt::format("invalid regular expression: {}", e.what()));
      }
      s.metrics.push_back(pattern);
    }
  }
  return s;
}

MonitorPrometheusDef Loader::PrometheusSource(const Node& n, const std::string& path, TestDefinition& def) {
  MonitorPrometheusDef p;
  p.pos = PosOf(n);
  p.url = MonitorUrl(n, path, kPrometheusKeys, def, &p.http);
  Node qs = n["queries"];
  if (!qs)
    Fail(n, path, "missing `queries`: a mapping of gauge names to PromQL, such as { pods: 'count(kube_pod_info)' }");
  std::string qp = Join(path, "queries");
  RequireMap(qs, qp);
  if (qs.size() == 0) Fail(qs, qp, "no queries: give at least one `name: PromQL`");
  for (const auto& kv : qs) {
    std::string name = kv.first.Scalar();
    bool valid = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) != 0 || name[0] == '_') &&
                 std::all_of(name.begin(), name.end(),
                             [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; });
    if (!valid) {
      Fail(kv.first, Join(qp, name), "a query's name becomes the gauge monitor_<name>: letters, digits and _ only");
    }
    std::string query = String(kv.second, Join(qp, name));
    if (query.empty()) Fail(kv.second, Join(qp, name), "an empty query");
    p.queries[name] = query;
  }
  return p;
}

MonitorPostgresDef Loader::PostgresSource(const Node& n, const std::string& path, TestDefinition& def) {
  RequireMap(n, path);
  CheckKeys(n, path, kPostgresKeys);
  MonitorPostgresDef p;
  p.pos = PosOf(n);
  if (!n["url"]) Fail(n, path, "missing `url`: the database to watch, such as postgres://user@db:5432/app");
  p.url = String(n["url"], Join(path, "url"));
  if (!p.url.starts_with("postgres://") && !p.url.starts_with("postgresql://")) {
    Fail(n["url"], Join(path, "url"), "expected a postgres:// or postgresql:// URL");
  }
  if (std::string pw = UrlPassword(p.url); !pw.empty()) def.secrets.push_back(pw);
  if (Node st = n["statements"]) p.statements = static_cast<int>(Int(st, Join(path, "statements"), 0, 100));
  return p;
}

void Loader::LoadAlerting(const Node& n, TestDefinition& def) {
  RequireMap(n, "alerting");
  CheckKeys(n, "alerting", {"alertmanager", "webhooks", "window", "labels"});
  // One URL or a list of them.
  auto urls = [this](const Node& u, const std::string& path) {
    std::vector<std::string> out;
    auto one = [&](const Node& item, const std::string& p) {
      std::string url = String(item, p);
      if (!url.starts_with("http://") && !url.starts_with("https://")) Fail(item, p, "an http:// or https:// URL");
      out.push_back(url);
    };
    if (u.IsSequence()) {
      for (size_t i = 0; i < u.size(); ++i) one(u[i], Index(path, i));
    } else {
      one(u, path);
    }
    return out;
  };
  if (Node am = n["alertmanager"]) def.alerting.alertmanagers = urls(am, "alerting.alertmanager");
  if (Node w = n["webhooks"]) def.alerting.webhooks = urls(w, "alerting.webhooks");
  if (Node w = n["window"]) def.alerting.window = Duration(w, "alerting.window", false);
  if (Node l = n["labels"]) {
    RequireMap(l, "alerting.labels");
    for (const auto& kv : l) {
      std::string k = kv.first.Scalar();
      def.alerting.labels[k] = String(kv.second, Join("alerting.labels", k));
    }
  }
  if (def.thresholds.empty()) Fail(n, "alerting", "alerts follow the thresholds, and this test has none");
}

void Loader::LoadFaults(const Node& list, TestDefinition& def) {
  RequireSeq(list, "faults");
  for (size_t i = 0; i < list.size(); ++i) {
    std::string path = fmt::format("faults[{}]", i);
    Node n = list[i];
    RequireMap(n, path);
    CheckKeys(n, path, {"at", "duration", "kind", "latency", "jitter", "probability", "rate", "scenario"});
    FaultDef f;
    f.pos = PosOf(n);
    if (!n["kind"]) Fail(n, path, "missing `kind` (blackhole, latency, reset or bandwidth)");
    std::string kind = String(n["kind"], path + ".kind");
    static const std::map<std::string, FaultDef::Kind> kKinds = {{"blackhole", FaultDef::Kind::kBlackhole},
                                                                 {"latency", FaultDef::Kind::kLatency},
                                                                 {"reset", FaultDef::Kind::kReset},
                                                                 {"bandwidth", FaultDef::Kind::kBandwidth}};
    auto k = kKinds.find(kind);
    if (k == kKinds.end()) {
      std::string s = Suggest(kind, {"blackhole", "latency", "reset", "bandwidth"});
      Fail(n["kind"], path + ".kind",
           fmt::format("unknown fault kind `{}` (blackhole, latency, reset or bandwidth){}", kind,
                       s.empty() ? "" : fmt::format("; did you mean `{}`?", s)));
    }
    f.kind = k->second;
    if (!n["at"]) Fail(n, path, "missing `at` (when the fault starts, e.g. 10s)");
    if (!n["duration"]) Fail(n, path, "missing `duration` (how long it lasts, e.g. 5s)");
    f.at = Duration(n["at"], path + ".at", true);
    f.duration = Duration(n["duration"], path + ".duration", false);
    // Keys that belong to another kind are mistakes, not options to ignore.
    auto only = [&](const char* key, FaultDef::Kind owner) {
      if (n[key] && f.kind != owner) {
        Fail(n[key], Join(path, key), fmt::format("`{}` applies to kind {} only", key, FaultKindName(owner)));
      }
    };
    only("latency", FaultDef::Kind::kLatency);
    only("jitter", FaultDef::Kind::kLatency);
    only("probability", FaultDef::Kind::kReset);
    only("rate", FaultDef::Kind::kBandwidth);
    if (f.kind == FaultDef::Kind::kLatency) {
      if (!n["latency"]) Fail(n, path, "a latency fault needs `latency` (e.g. 200ms)");
      f.latency = Duration(n["latency"], path + ".latency", true);
      if (n["jitter"]) f.jitter = Duration(n["jitter"], path + ".jitter", true);
      if (f.jitter > f.latency)
        Fail(n["jitter"], path + ".jitter", "must not exceed `latency` (a delay is never negative)");
    }
    if (n["probability"]) {
      f.probability = Number(n["probability"], path + ".probability", 0, true);
      if (f.probability > 1) Fail(n["probability"], path + ".probability", "must be at most 1");
    }
    if (f.kind == FaultDef::Kind::kBandwidth) {
      if (!n["rate"]) Fail(n, path, "a bandwidth fault needs `rate` (bytes per second per connection, e.g. 100KB)");
      auto b = ParseBytes(String(n["rate"], path + ".rate"));
      if (!b.ok()) Fail(n["rate"], path + ".rate", b.error().message);
      if (*b < 10) Fail(n["rate"], path + ".rate", "must be at least 10 bytes per second");
      f.rate = *b;
    }
    if (n["scenario"]) {
      f.scenario = String(n["scenario"], path + ".scenario");
      bool known = std::any_of(def.scenarios.begin(), def.scenarios.end(),
                               [&](const ScenarioDef& sc) { return sc.name == f.scenario; });
      if (!known) {
        std::vector<std::string> names;
        for (const ScenarioDef& sc : def.scenarios) names.push_back(sc.name);
        std::string s = Suggest(f.scenario, names);
        Fail(n["scenario"], path + ".scenario",
             fmt::format("no scenario `{}`{}", f.scenario, s.empty() ? "" : fmt::format(" (did you mean `{}`?)", s)));
      }
    }
    def.faults.push_back(std::move(f));
  }
}

void Loader::LoadData(const Node& data, TestDefinition& def) {
  RequireMap(data, "data");
  std::filesystem::path base = std::filesystem::path(file_).parent_path();
  for (const auto& kv : data) {
    std::string name = kv.first.Scalar();
    std::string path = Join("data", name);
    RequireMap(kv.second, path);
    CheckKeys(kv.second, path, {"file", "mode"});
    if (!kv.second["file"]) Fail(kv.second, path, "missing `file`");
    DataFeeder f;
    f.name = name;
    std::string file = String(kv.second["file"], Join(path, "file"));
    f.file = file;
    if (options_.confine_files && !IsConfinedPath(file)) {
      // One message whether or not such a file exists: the answer tells nothing of the disk.
      Fail(kv.second["file"], Join(path, "file"),
           fmt::format("`{}`: a data file here is one uploaded with the test, named by a relative path without `..`",
                       file));
    }
    f.path = std::filesystem::path(file).is_absolute() ? file : (base / file).string();
    if (Node mode = kv.second["mode"]) {
      std::string m = String(mode, Join(path, "mode"));
      static const std::map<std::string, DataFeeder::Mode> kModes = {{"sequential", DataFeeder::Mode::kSequential},
                                                                     {"random", DataFeeder::Mode::kRandom},
                                                                     {"unique", DataFeeder::Mode::kUnique}};
      auto named = kModes.find(m);
      if (named == kModes.end())
        Fail(mode, Join(path, "mode"), fmt::format("unknown mode `{}` (sequential, random or unique)", m));
      f.mode = named->second;
    }
    Result<DataTable> table = Error::InvalidArgument("");
    if (options_.files != nullptr) {
      auto it = options_.files->find(file);
      if (it == options_.files->end()) {
        Fail(kv.second["file"], Join(path, "file"), fmt::format("`{}` was not uploaded with the test (files)", file));
      }
      table = file.ends_with(".json") ? ParseJsonRows(it->second, file) : ParseCsv(it->second, file);
    } else {
      table = ReadDataFile(f.path);
    }
    if (!table.ok()) Fail(kv.second["file"], Join(path, "file"), table.error().message);
    f.columns = table->columns;
    f.rows = table->rows;
    def.data.push_back(std::move(f));
  }
}

}  // namespace loading

namespace {

using loading::Fail;
using loading::Index;
using loading::Join;
using loading::Loader;
using loading::LoadError;
using loading::PosOf;
using YAML::Node;

// The first byte of `text` that is not UTF-8, as "line:col: ...", or "".
std::string FirstInvalidUtf8(const std::string& text) {
  int line = 1, col = 1;
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= text.size();
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; ok && k < len; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8 either.
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
               (cp >= 0xD800 && cp <= 0xDFFF))) {
      ok = false;
    }
    if (!ok) return fmt::format("{}:{}: invalid UTF-8 (byte 0x{:02X}): a test file is UTF-8 text", line, col, c);
    if (c == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
    i += len;
  }
  return "";
}

// What the document expands to, walked once per node (aliases name one node many times:
// each is measured once and counted as often as it is named). Refuses a value larger than
// `max_bytes`, nesting deeper than kMaxYamlDepth and a key given twice in one mapping.
class ExpansionCheck {
 public:
  explicit ExpansionCheck(uint64_t max_bytes) : max_(max_bytes) {}

  void Check(const Node& root) {
    if (Size(root, 0, "") > max_) Locate(root, "");
  }

 private:
  uint64_t Size(const Node& n, int depth, const std::string& path) {
    if (depth > kMaxYamlDepth) {
      Fail(PosOf(n), path, fmt::format("nested more than {} levels deep", kMaxYamlDepth));
    }
    const YAML::Mark m = n.Mark();
    if (m.pos >= 0) {
      auto it = memo_.find(m.pos);
      if (it != memo_.end()) return it->second;
    }
    uint64_t size = 1;
    auto add = [&](uint64_t s) { size = std::min(max_ + 1, size + s); };
    if (n.IsScalar()) {
      add(n.Scalar().size());
    } else if (n.IsSequence()) {
      for (size_t i = 0; i < n.size(); ++i) add(Size(n[i], depth + 1, Index(path, i)));
    } else if (n.IsMap()) {
      std::map<std::string, int> seen;  // key -> line
      for (const auto& kv : n) {
        if (kv.first.IsScalar()) {
          const std::string& key = kv.first.Scalar();
          auto [it, fresh] = seen.emplace(key, kv.first.Mark().line + 1);
          if (!fresh) {
            Fail(PosOf(kv.first), Join(path, key),
                 fmt::format("duplicate key `{}` (first at line {})", key, it->second));
          }
        }
        add(Size(kv.first, depth + 1, path));
        add(Size(kv.second, depth + 1, kv.first.IsScalar() ? Join(path, kv.first.Scalar()) : path));
      }
    }
    if (m.pos >= 0) memo_[m.pos] = size;
    return size;
  }

  // The innermost value that is too large on its own: where the aliases multiply.
  [[noreturn]] void Locate(const Node& n, const std::string& path) {
    auto too_big = [&](const Node& c) { return Size(c, 0, path) > max_; };
    if (n.IsSequence()) {
      for (size_t i = 0; i < n.size(); ++i) {
        if (too_big(n[i])) Locate(n[i], Index(path, i));
      }
    } else if (n.IsMap()) {
      for (const auto& kv : n) {
        if (too_big(kv.second)) Locate(kv.second, kv.first.IsScalar() ? Join(path, kv.first.Scalar()) : path);
      }
    }
    Fail(PosOf(n), path,
         fmt::format("this value expands to more than {} bytes (YAML aliases repeat what they name); "
                     "--max-value-size raises the limit",
                     max_));
  }

  uint64_t max_;
  std::unordered_map<size_t, uint64_t> memo_;
};

Result<TestDefinition> LoadNode(const std::function<Node()>& parse, const std::string& file,
                                const LoadOptions& options) {
  try {
    Node root = parse();
    if (!root.IsDefined() || root.IsNull()) {
      Fail(SourcePos{1, 1}, "",
           "the file holds no test definition (it is empty or only comments): a test is a mapping "
           "with `scenarios` (and name, target, thresholds, ...)");
    }
    ExpansionCheck(options.max_value_size).Check(root);
    Loader loader(file, options);
    return loader.Load(root);
  } catch (const LoadError& e) {
    return Error::InvalidArgument(
        fmt::format("{}:{}:{}: {}{}", file, e.pos.line, e.pos.col, e.path.empty() ? "" : e.path + ": ", e.message));
  } catch (const YAML::DeepRecursion& e) {
    return Error::InvalidArgument(fmt::format("{}:{}:{}: nested too deeply for the YAML parser ({} levels)", file,
                                              e.mark.line + 1, e.mark.column + 1, e.depth()));
  } catch (const YAML::Exception& e) {
    return Error::InvalidArgument(fmt::format("{}:{}:{}: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

}  // namespace

const char* ExecutorName(ExecutorKind k) {
  switch (k) {
    case ExecutorKind::kConstantVus: return "constant-vus";
    case ExecutorKind::kRampingVus: return "ramping-vus";
    case ExecutorKind::kPerVuIterations: return "per-vu-iterations";
    case ExecutorKind::kSharedIterations: return "shared-iterations";
    case ExecutorKind::kConstantArrivalRate: return "constant-arrival-rate";
    case ExecutorKind::kRampingArrivalRate: return "ramping-arrival-rate";
    case ExecutorKind::kCapacitySearch: return "capacity-search";
  }
  return "unknown";
}

std::string Suggest(const std::string& word, const std::vector<std::string>& candidates) {
  // Levenshtein distance; a suggestion must be within a third of the word's length.
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      }
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    size_t d = distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

Result<TestDefinition> LoadTestText(const std::string& text, const std::string& file_name, const LoadOptions& options) {
  if (std::string bad = FirstInvalidUtf8(text); !bad.empty()) {
    return Error::InvalidArgument(fmt::format("{}:{}", file_name, bad));
  }
  // yaml-cpp parses nested flow and block collections recursively: a file nested thousands
  // deep would end the process on its stack before any check of ours ran.
  int depth = 0, worst = 0, line = 1, col = 0;
  for (char c : text) {
    ++col;
    if (c == '[' || c == '{')
      worst = std::max(worst, ++depth);
    else if ((c == ']' || c == '}') && depth > 0)
      --depth;
    else if (c == '\n')
      ++line, col = 0;
    if (worst > 4 * kMaxYamlDepth) {
      return Error::InvalidArgument(
          fmt::format("{}:{}:{}: nested more than {} levels deep", file_name, line, col, kMaxYamlDepth));
    }
  }
  return LoadNode([&] { return YAML::Load(text); }, file_name, options);
}

Result<TestDefinition> LoadTestFile(const std::string& path, const LoadOptions& options) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error::InvalidArgument(fmt::format("{}: cannot read the test file", path));
  std::stringstream ss;
  ss << f.rdbuf();
  return LoadTestText(ss.str(), path, options);
}

}  // namespace loadcell
