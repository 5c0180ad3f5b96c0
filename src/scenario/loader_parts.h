// The YAML loader's insides, shared by its files and no one else: the Loader class (one
// per file loaded: it reads the YAML into a TestDefinition, failing with the node's
// position) and the helpers its parts use. Its parts:
//   loader.cc             the entry points, the document's top level, monitor, faults, data;
//   loader_values.cc      scalars: strings with ${ENV}, numbers, durations, templates, keys;
//   loader_steps.cc       scenarios and their steps: request, think, pick, loop, group, set;
//   loader_protocols.cc   ws and sql steps, databases;
//   loader_thresholds.cc  thresholds and the tags their filters may name.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "metrics/catalog.h"
#include "scenario/definition.h"
#include "scenario/loader.h"
#include "script/lua_host.h"

namespace loadcell::loading {

using YAML::Node;

struct LoadError {
  SourcePos pos;
  std::string path;
  std::string message;
};

inline SourcePos PosOf(const Node& n) {
  YAML::Mark m = n.Mark();
  if (m.line < 0) return {0, 0};
  return {m.line + 1, m.column + 1};
}

[[noreturn]] inline void Fail(SourcePos pos, const std::string& path, const std::string& message) {
  throw LoadError{pos, path, message};
}
[[noreturn]] inline void Fail(const Node& n, const std::string& path, const std::string& message) {
  Fail(PosOf(n), path, message);
}

inline std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}
inline std::string Index(const std::string& path, size_t i) { return fmt::format("{}[{}]", path, i); }

// The password of scheme://user:password@host/...: a secret wherever it would be echoed.
inline std::string UrlPassword(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  size_t start = scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  size_t at = authority.rfind('@');
  if (at == std::string::npos) return "";
  size_t colon = authority.find(':');
  if (colon == std::string::npos || colon > at) return "";
  return authority.substr(colon + 1, at - colon - 1);
}

inline std::vector<std::string> MetricNames() {
  std::vector<std::string> names;
  for (const MetricInfo& m : MetricCatalog()) names.emplace_back(m.name);
  return names;
}

class Loader {
 public:
  Loader(std::string file, const LoadOptions& options) : file_(std::move(file)), options_(options) {}

  TestDefinition Load(const Node& root);

 private:
  void LoadMonitor(const Node& m, TestDefinition& def);
  static inline const std::vector<std::string> kScrapeKeys = {"url",   "metrics",      "bearer_token",
                                                              "basic", "insecure_tls", "timeout"};
  static inline const std::vector<std::string> kPrometheusKeys = {"url",   "queries",      "bearer_token",
                                                                  "basic", "insecure_tls", "timeout"};
  std::string MonitorUrl(const Node& n, const std::string& path, const std::vector<std::string>& keys,
                         TestDefinition& def, MonitorHttpDef* http);
  MonitorScrapeDef Scrape(const Node& n, const std::string& path, TestDefinition& def);
  MonitorPrometheusDef PrometheusSource(const Node& n, const std::string& path, TestDefinition& def);
  static inline const std::vector<std::string> kPostgresKeys = {"url", "statements"};
  MonitorPostgresDef PostgresSource(const Node& n, const std::string& path, TestDefinition& def);

  void LoadAlerting(const Node& n, TestDefinition& def);

  // ---- faults --------------------------------------------------------------------------
  void LoadFaults(const Node& list, TestDefinition& def);

  // ---- scalars -------------------------------------------------------------------------
  void RequireMap(const Node& n, const std::string& path);
  void RequireSeq(const Node& n, const std::string& path);

  // ${NAME} and ${NAME:-default} from -e values, then the environment.
  std::string ExpandEnv(const Node& n, const std::string& path, const std::string& text);

  std::optional<std::string> EnvValue(const std::string& name);

  std::string String(const Node& n, const std::string& path);

  // Every count a test holds is at most a trillion: beyond that no run can use it, and an
  // integer that overflowed (strtoll saturates) must not pass as its largest value.
  static constexpr int64_t kMaxInt = 1'000'000'000'000;

  int64_t Int(const Node& n, const std::string& path, int64_t min, int64_t max = kMaxInt);

  // A finite number within [min, max] (min excluded when `exclusive`): NaN, infinities and
  // values no schedule can represent are refused here, not found spinning at run time.
  double Number(const Node& n, const std::string& path, double min, bool exclusive, double max = 1e12);

  // An arrival rate per time unit: above zero and at least one per 10 years of time units
  // (a rate of 1e-300 would schedule its first arrival past the end of time), at most 1e9.
  double Rate(const Node& n, const std::string& path, bool allow_zero);

  bool Bool(const Node& n, const std::string& path);

  // Every duration of a test is at most 31 days: a longer run is a typo (200000h), and the
  // run's end time must be representable.
  static constexpr Nanos kMaxDuration = 31LL * 24 * 3600 * kSecond;

  Nanos Duration(const Node& n, const std::string& path, bool allow_zero);

  void CheckKeys(const Node& map, const std::string& path, const std::vector<std::string>& allowed,
                 const std::string& context = "");

  // A list of maps (captures, checks): each item checked to be a map of `allowed` keys,
  // then handed to `each(item, item_path)`.
  template <typename Each>
  void EachMap(const Node& list, const std::string& path, const std::vector<std::string>& allowed, Each each) {
    RequireSeq(list, path);
    for (size_t i = 0; i < list.size(); ++i) {
      std::string item_path = Index(path, i);
      Node item = list[i];
      RequireMap(item, item_path);
      CheckKeys(item, item_path, allowed);
      each(item, item_path);
    }
  }

  // ---- templates -----------------------------------------------------------------------
  Template Compile(const Node& n, const std::string& path);

  Template CompileText(const Node& n, const std::string& path, const std::string& text);

  std::set<std::string> secret_vars_;  // "vars.api_key"

  void CheckName(const Node& n, const std::string& path, const std::string& name);

  TemplatePairs Pairs(const Node& n, const std::string& path);

  // ---- data ----------------------------------------------------------------------------
  void LoadData(const Node& data, TestDefinition& def);

  // ---- scenarios -----------------------------------------------------------------------
  ScenarioDef LoadScenario(const Node& n, const std::string& path, const std::string& name);

  std::vector<Stage> Stages(const Node& n, const std::string& path, bool rate);

  // Names captured (`as`) or `set` anywhere in a flow: templates may use them.
  void CollectDefinedNames(const Node& n);

  // ---- steps ---------------------------------------------------------------------------
  Steps StepList(const Node& n, const std::string& path);

  Step OneStep(const Node& n, const std::string& path, const std::vector<std::string>& extra_keys);

  // ---- WebSocket -----------------------------------------------------------------------
  WsStep Ws(const Node& n, const std::string& path);

  WsActions WsActionList(const Node& n, const std::string& path);

  std::string Base64Decode(const Node& n, const std::string& path);

  // ---- SQL -----------------------------------------------------------------------------
  void LoadDatabases(const Node& n, TestDefinition& def);

  SqlStep Sql(const Node& n, const std::string& path);

  RequestStep Request(const Node& n, const std::string& path);

  // A YAML value as JSON, keys in the order written. Strings holding templates become
  // JsonBody slots (`slots`), compiled here so that their errors point into the file.
  // An unquoted YAML scalar that is a JSON number or boolean as written (`.5`, `0x1F` and
  // `inf` are YAML's numbers, not JSON's: they stay strings).
  static bool IsPlainJsonScalar(const Node& n);

  nlohmann::ordered_json ToJson(const Node& n, const std::string& path, std::vector<JsonBody::Slot>* slots);

  Capture TagFrom(const Node& n, const std::string& path);
  Capture CaptureOf(const Node& c, const std::string& path, const std::string& as);
  std::vector<Capture> Captures(const Node& n, const std::string& path);

  std::vector<Check> Checks(const Node& n, const std::string& path);

  JsonPath Path(const Node& n, const std::string& path, const std::string& text);

  ThinkStep Think(const Node& n, const std::string& path);

  PickStep Pick(const Node& n, const std::string& path);

  LoopStep Loop(const Node& n, const std::string& path);

  GroupStep Group(const Node& n, const std::string& path);

  SetStep Set(const Node& n, const std::string& path);

  // ---- Lua -----------------------------------------------------------------------------
  // `script:` — read, and run in the check host (its syntax errors with file:line:col).
  void LoadScript(const Node& n, TestDefinition& def);
  void LoadMetrics(const Node& n, TestDefinition& def);
  IfStep If(const Node& n, const std::string& path);
  WhileStep While(const Node& n, const std::string& path);
  RecordStep Record(const Node& n, const std::string& path);
  // A Lua expression written as one (a condition, a record's value).
  Template LuaExpression(const Node& n, const std::string& path);
  // A template's Lua part: its syntax and the names it reads, at its place in `n`.
  void CheckLua(const Node& n, const std::string& path, const Template::ScriptPart& part);
  script::LuaHost& CheckHost();
  // The position of `offset` in a single-line scalar.
  static SourcePos At(const Node& n, size_t offset);

  // ---- thresholds ----------------------------------------------------------------------
  void LoadThresholds(const Node& n, TestDefinition& def);

  // What the steps of a test can tag a sample with, for thresholds' filters.
  struct TagSpace {
    std::set<std::string> scenarios, groups{""}, names, keys;
  };

  static void CollectTags(const Steps& steps, const std::string& group, TagSpace& t);

  // A threshold whose filter no sample can carry would pass on no data: a broken SLO gate
  // that looks green. Scenario, group and request names are all known here.
  void CheckThresholdFilters(const Node& n, const TestDefinition& def);

  void LoadDuring(const Node& d, const std::string& path, ThresholdExpr* e);
  void CheckAggregate(const Node& n, const std::string& path, MetricType type, const ThresholdExpr& e);

  std::string file_;
  const LoadOptions& options_;
  const std::map<std::string, std::string>* vars_ = nullptr;
  const std::vector<DataFeeder>* data_ = nullptr;
  const std::vector<DatabaseDef>* databases_ = nullptr;
  const std::string* target_ = nullptr;
  std::optional<Capture> default_tag_from_;                        // defaults.tag_from, for requests without their own
  std::optional<std::pair<SourcePos, std::string>> relative_url_;  // the first path, when there is no target
  std::map<std::string, std::string> scenario_env_;
  std::set<std::string> defined_;
  std::set<std::string> setup_defined_;  // captured or set by `setup:`: `setup.NAME`
  const TestDefinition* def_ = nullptr;
  std::unique_ptr<script::LuaHost> lua_;  // the check host: the script's globals, expressions' syntax
  bool uses_lua_ = false;
  bool uses_iteration_in_test_ = false;
};

}  // namespace loadcell::loading
