#include "scenario/loader.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include "common/units.h"
#include "metrics/catalog.h"
#include "scenario/data_file.h"

namespace loadcell {
namespace {

using YAML::Node;

struct LoadError {
  SourcePos pos;
  std::string path;
  std::string message;
};

SourcePos PosOf(const Node& n) {
  YAML::Mark m = n.Mark();
  if (m.line < 0) return {0, 0};
  return {m.line + 1, m.column + 1};
}

[[noreturn]] void Fail(SourcePos pos, const std::string& path, const std::string& message) {
  throw LoadError{pos, path, message};
}
[[noreturn]] void Fail(const Node& n, const std::string& path, const std::string& message) {
  Fail(PosOf(n), path, message);
}

std::string Join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
std::string Index(const std::string& path, size_t i) { return fmt::format("{}[{}]", path, i); }

// The password of scheme://user:password@host/...: a secret wherever it would be echoed.
std::string UrlPassword(const std::string& url) {
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

}  // namespace

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

namespace {

std::vector<std::string> MetricNames() {
  std::vector<std::string> names;
  for (const MetricInfo& m : MetricCatalog()) names.emplace_back(m.name);
  return names;
}

class Loader {
 public:
  Loader(std::string file, const LoadOptions& options) : file_(std::move(file)), options_(options) {}

  TestDefinition Load(const Node& root) {
    TestDefinition def;
    def.file = file_;
    if (!root.IsMap()) Fail(root, "", "a test definition must be a mapping (name, target, scenarios, ...)");
    CheckKeys(root, "",
              {"name", "target", "defaults", "vars", "data", "scenarios", "thresholds", "strict_thresholds", "monitor",
               "faults", "databases"});
    def.env = options_.env;
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
      CheckKeys(defaults, "defaults", {"headers", "timeout", "http"});
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
    if (Node th = root["thresholds"]) {
      LoadThresholds(th, def);
      CheckThresholdFilters(th, def);
    }
    def.has_monitor = static_cast<bool>(root["monitor"]);
    if (Node m = root["monitor"]) LoadMonitor(m, def);
    def.has_faults = static_cast<bool>(root["faults"]);
    if (Node f = root["faults"]) LoadFaults(f, def);
    def.has_databases = static_cast<bool>(root["databases"]);
    if (relative_url_.has_value()) {
      Fail(relative_url_->first, relative_url_->second,
           "a relative URL needs the test's `target` (or give an absolute URL)");
    }
    return def;
  }

 private:
  void LoadMonitor(const Node& m, TestDefinition& def) {
    RequireMap(m, "monitor");
    CheckKeys(m, "monitor", {"processes", "interval"});
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
    if (m["interval"]) {
      def.monitor.interval = Duration(m["interval"], "monitor.interval", false);
      if (def.monitor.interval != kSecond)
        Fail(m["interval"], "monitor.interval", "only 1s is supported (the series is per second)");
    }
  }

  // ---- faults --------------------------------------------------------------------------
  void LoadFaults(const Node& list, TestDefinition& def) {
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

  // ---- scalars -------------------------------------------------------------------------
  void RequireMap(const Node& n, const std::string& path) {
    if (!n.IsMap()) Fail(n, path, "expected a mapping");
  }
  void RequireSeq(const Node& n, const std::string& path) {
    if (!n.IsSequence()) Fail(n, path, "expected a list");
  }

  // ${NAME} and ${NAME:-default} from -e values, then the environment.
  std::string ExpandEnv(const Node& n, const std::string& path, const std::string& text) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
      size_t open = text.find("${", i);
      if (open == std::string::npos) {
        out += text.substr(i);
        break;
      }
      out += text.substr(i, open - i);
      size_t close = text.find('}', open);
      if (close == std::string::npos) Fail(n, path, "unterminated ${ in environment reference");
      std::string inner = text.substr(open + 2, close - open - 2);
      std::string name = inner, fallback;
      bool has_fallback = false;
      if (size_t d = inner.find(":-"); d != std::string::npos) {
        name = inner.substr(0, d);
        fallback = inner.substr(d + 2);
        has_fallback = true;
      }
      if (auto v = EnvValue(name))
        out += *v;
      else if (has_fallback)
        out += fallback;
      else
        Fail(n, path,
             fmt::format("environment variable {} is not set ({})", name,
                         fmt::format(fmt::runtime(options_.env_hint), name)));
      i = close + 1;
    }
    return out;
  }

  std::optional<std::string> EnvValue(const std::string& name) {
    if (auto it = options_.env.find(name); it != options_.env.end()) return it->second;
    if (options_.use_process_env) {
      if (const char* v = std::getenv(name.c_str())) return std::string(v);
    }
    return std::nullopt;
  }

  std::string String(const Node& n, const std::string& path) {
    if (!n.IsScalar()) Fail(n, path, "expected a string");
    return ExpandEnv(n, path, n.Scalar());
  }

  // Every count a test holds is at most a trillion: beyond that no run can use it, and an
  // integer that overflowed (strtoll saturates) must not pass as its largest value.
  static constexpr int64_t kMaxInt = 1'000'000'000'000;

  int64_t Int(const Node& n, const std::string& path, int64_t min, int64_t max = kMaxInt) {
    std::string s = String(n, path);
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || end != s.c_str() + s.size()) Fail(n, path, fmt::format("expected an integer, got \"{}\"", s));
    if (errno == ERANGE || v > max) Fail(n, path, fmt::format("must be at most {}, got {}", max, s));
    if (v < min) Fail(n, path, fmt::format("must be at least {}, got {}", min, v));
    return v;
  }

  // A finite number within [min, max] (min excluded when `exclusive`): NaN, infinities and
  // values no schedule can represent are refused here, not found spinning at run time.
  double Number(const Node& n, const std::string& path, double min, bool exclusive, double max = 1e12) {
    std::string s = String(n, path);
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) Fail(n, path, fmt::format("expected a number, got \"{}\"", s));
    if (!std::isfinite(v)) Fail(n, path, fmt::format("expected a finite number, got \"{}\"", s));
    if (exclusive ? v <= min : v < min) {
      Fail(n, path, fmt::format("must be {} {}, got {}", exclusive ? "greater than" : "at least", min, s));
    }
    if (v > max) Fail(n, path, fmt::format("must be at most {:g}, got {}", max, s));
    return v;
  }

  // An arrival rate per time unit: above zero and at least one per 10 years of time units
  // (a rate of 1e-300 would schedule its first arrival past the end of time), at most 1e9.
  double Rate(const Node& n, const std::string& path, bool allow_zero) {
    double v = Number(n, path, 0, !allow_zero, 1e9);
    if (v > 0 && v < 1e-8)
      Fail(n, path, fmt::format("must be 0 or at least 1e-8 (one arrival per 10^8 time units), got {}", n.Scalar()));
    return v;
  }

  bool Bool(const Node& n, const std::string& path) {
    std::string s = String(n, path);
    if (s == "true" || s == "yes") return true;
    if (s == "false" || s == "no") return false;
    Fail(n, path, fmt::format("expected true or false, got \"{}\"", s));
  }

  // Every duration of a test is at most 31 days: a longer run is a typo (200000h), and the
  // run's end time must be representable.
  static constexpr Nanos kMaxDuration = 31LL * 24 * 3600 * kSecond;

  Nanos Duration(const Node& n, const std::string& path, bool allow_zero) {
    std::string s = String(n, path);
    auto d = ParseDuration(s);
    if (!d.ok()) Fail(n, path, d.error().message);
    if (!allow_zero && *d == 0) Fail(n, path, "must be greater than zero");
    if (*d > kMaxDuration) Fail(n, path, fmt::format("invalid duration \"{}\": at most 744h (31 days)", s));
    return *d;
  }

  void CheckKeys(const Node& map, const std::string& path, const std::vector<std::string>& allowed,
                 const std::string& context = "") {
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string suggestion = Suggest(key, allowed);
      std::string msg = fmt::format("unknown key `{}`{}", key, context);
      if (!suggestion.empty()) msg += fmt::format(" (did you mean `{}`?)", suggestion);
      Fail(kv.first, Join(path, key), msg);
    }
  }

  // ---- templates -----------------------------------------------------------------------
  Template Compile(const Node& n, const std::string& path) {
    std::string text = String(n, path);
    return CompileText(n, path, text);
  }

  Template CompileText(const Node& n, const std::string& path, const std::string& text) {
    size_t offset = 0;
    auto t = Template::Compile(text, &offset);
    SourcePos pos = PosOf(n);
    // Point at the character for single-line scalars (quoted ones start one column later).
    bool quoted = n.IsScalar() && n.Tag() == "!";
    if (n.IsScalar() && text.find('\n') == std::string::npos) pos.col += static_cast<int>(offset) + (quoted ? 1 : 0);
    if (!t.ok()) Fail(pos, path, fmt::format("template: {}", t.error().message));
    for (const std::string& name : t->Names()) CheckName(n, path, name);
    return std::move(t).value();
  }

  std::set<std::string> secret_vars_;  // "vars.api_key"

  void CheckName(const Node& n, const std::string& path, const std::string& name) {
    std::string root = name.substr(0, name.find('.'));
    std::string rest = name.find('.') == std::string::npos ? "" : name.substr(name.find('.') + 1);
    if (name == "vu" || name == "iteration" || name == "scenario") return;
    if (root == "vars") {
      if (vars_->count(rest) == 0) {
        std::vector<std::string> known;
        for (const auto& [k, _] : *vars_) known.push_back(k);
        std::string s = Suggest(rest, known);
        Fail(n, path,
             fmt::format("template names `{}`, but `vars` has no `{}`{}", name, rest,
                         s.empty() ? "" : fmt::format(" (did you mean `vars.{}`?)", s)));
      }
      return;
    }
    if (root == "env") {
      if (!EnvValue(rest) && scenario_env_.count(rest) == 0) {
        Fail(n, path, fmt::format("template names `{}`, but {} is not set (pass -e {}=...)", name, rest, rest));
      }
      return;
    }
    if (root == "data") {
      size_t dot = rest.find('.');
      std::string feeder = rest.substr(0, dot);
      std::string column = dot == std::string::npos ? "" : rest.substr(dot + 1);
      auto it = std::find_if(data_->begin(), data_->end(), [&](const DataFeeder& f) { return f.name == feeder; });
      if (it == data_->end())
        Fail(n, path, fmt::format("template names `{}`, but there is no data feeder `{}`", name, feeder));
      if (std::find(it->columns.begin(), it->columns.end(), column) == it->columns.end()) {
        std::string s = Suggest(column, it->columns);
        Fail(n, path,
             fmt::format("template names `{}`, but {} has no column `{}`{}", name, it->file, column,
                         s.empty() ? "" : fmt::format(" (did you mean `data.{}.{}`?)", feeder, s)));
      }
      return;
    }
    if (defined_.count(name) != 0) return;
    std::vector<std::string> known(defined_.begin(), defined_.end());
    for (const char* k : {"vu", "iteration", "scenario"}) known.emplace_back(k);
    std::string s = Suggest(name, known);
    Fail(n, path,
         fmt::format("template names unknown variable `{}` (not captured or set in this scenario, and not "
                     "vars.*, env.*, data.*, vu, iteration or scenario){}",
                     name, s.empty() ? "" : fmt::format("; did you mean `{}`?", s)));
  }

  TemplatePairs Pairs(const Node& n, const std::string& path) {
    RequireMap(n, path);
    TemplatePairs out;
    for (const auto& kv : n) {
      std::string key = kv.first.Scalar();
      out.emplace_back(key, Compile(kv.second, Join(path, key)));
    }
    return out;
  }

  // ---- data ----------------------------------------------------------------------------
  void LoadData(const Node& data, TestDefinition& def) {
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
        if (m == "sequential")
          f.mode = DataFeeder::Mode::kSequential;
        else if (m == "random")
          f.mode = DataFeeder::Mode::kRandom;
        else if (m == "unique")
          f.mode = DataFeeder::Mode::kUnique;
        else
          Fail(mode, Join(path, "mode"), fmt::format("unknown mode `{}` (sequential, random or unique)", m));
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

  // ---- scenarios -----------------------------------------------------------------------
  ScenarioDef LoadScenario(const Node& n, const std::string& path, const std::string& name) {
    RequireMap(n, path);
    ScenarioDef s;
    s.name = name;
    s.pos = PosOf(n);
    if (!n["executor"])
      Fail(n, path,
           "missing `executor` (constant-vus, ramping-vus, per-vu-iterations, "
           "shared-iterations, constant-arrival-rate, ramping-arrival-rate)");
    std::string ex = String(n["executor"], Join(path, "executor"));
    static const std::vector<std::pair<std::string, ExecutorKind>> kExecutors = {
        {"constant-vus", ExecutorKind::kConstantVus},
        {"ramping-vus", ExecutorKind::kRampingVus},
        {"per-vu-iterations", ExecutorKind::kPerVuIterations},
        {"shared-iterations", ExecutorKind::kSharedIterations},
        {"constant-arrival-rate", ExecutorKind::kConstantArrivalRate},
        {"ramping-arrival-rate", ExecutorKind::kRampingArrivalRate},
        {"capacity-search", ExecutorKind::kCapacitySearch}};
    auto it = std::find_if(kExecutors.begin(), kExecutors.end(), [&](const auto& e) { return e.first == ex; });
    if (it == kExecutors.end()) {
      std::vector<std::string> names;
      for (const auto& e : kExecutors) names.push_back(e.first);
      std::string sug = Suggest(ex, names);
      Fail(n["executor"], Join(path, "executor"),
           fmt::format("unknown executor `{}`{}", ex, sug.empty() ? "" : fmt::format(" (did you mean `{}`?)", sug)));
    }
    s.executor = it->second;
    std::vector<std::string> common = {"executor", "start_time", "graceful_stop", "tags", "env", "flow"};
    std::vector<std::string> own;
    switch (s.executor) {
      case ExecutorKind::kConstantVus: own = {"vus", "duration"}; break;
      case ExecutorKind::kRampingVus: own = {"start_vus", "stages", "graceful_ramp_down"}; break;
      case ExecutorKind::kPerVuIterations:
      case ExecutorKind::kSharedIterations: own = {"vus", "iterations", "max_duration"}; break;
      case ExecutorKind::kConstantArrivalRate:
        own = {"rate", "time_unit", "duration", "pre_allocated_vus", "max_vus"};
        break;
      case ExecutorKind::kRampingArrivalRate:
        own = {"start_rate", "time_unit", "stages", "pre_allocated_vus", "max_vus"};
        break;
      case ExecutorKind::kCapacitySearch:
        own = {"start_rate", "max_rate", "min_rate", "time_unit", "step_duration", "pre_allocated_vus", "max_vus"};
        break;
    }
    std::vector<std::string> allowed = common;
    allowed.insert(allowed.end(), own.begin(), own.end());
    CheckKeys(n, path, allowed, fmt::format(" for executor {}", ex));

    auto required = [&](const char* key) -> Node {
      Node v = n[key];
      if (!v) Fail(n, path, fmt::format("executor {} needs `{}`", ex, key));
      return v;
    };
    auto p = [&](const char* key) { return Join(path, key); };
    if (n["start_time"]) s.start_time = Duration(n["start_time"], p("start_time"), true);
    if (n["graceful_stop"]) s.graceful_stop = Duration(n["graceful_stop"], p("graceful_stop"), true);
    switch (s.executor) {
      case ExecutorKind::kConstantVus:
        s.vus = Int(required("vus"), p("vus"), 1);
        s.duration = Duration(required("duration"), p("duration"), false);
        break;
      case ExecutorKind::kRampingVus:
        s.start_vus = n["start_vus"] ? Int(n["start_vus"], p("start_vus"), 0) : 1;
        s.stages = Stages(required("stages"), p("stages"), false);
        if (n["graceful_ramp_down"])
          s.graceful_ramp_down = Duration(n["graceful_ramp_down"], p("graceful_ramp_down"), true);
        break;
      case ExecutorKind::kPerVuIterations:
      case ExecutorKind::kSharedIterations:
        s.vus = n["vus"] ? Int(n["vus"], p("vus"), 1) : 1;
        s.iterations = n["iterations"] ? Int(n["iterations"], p("iterations"), 1) : 1;
        if (n["max_duration"]) s.max_duration = Duration(n["max_duration"], p("max_duration"), false);
        if (s.executor == ExecutorKind::kSharedIterations && s.iterations < s.vus) {
          Fail(n["iterations"] ? n["iterations"] : n, p("iterations"),
               fmt::format("{} iterations cannot keep {} VUs busy (iterations must be >= vus)", s.iterations, s.vus));
        }
        break;
      case ExecutorKind::kConstantArrivalRate:
      case ExecutorKind::kRampingArrivalRate:
      case ExecutorKind::kCapacitySearch:
        if (s.executor == ExecutorKind::kConstantArrivalRate) {
          s.rate = Rate(required("rate"), p("rate"), false);
          s.duration = Duration(required("duration"), p("duration"), false);
        } else if (s.executor == ExecutorKind::kRampingArrivalRate) {
          s.start_rate = n["start_rate"] ? Rate(n["start_rate"], p("start_rate"), true) : 0;
          s.stages = Stages(required("stages"), p("stages"), true);
        } else {
          s.start_rate = Rate(required("start_rate"), p("start_rate"), false);
          s.max_rate = Rate(required("max_rate"), p("max_rate"), false);
          s.step_duration = Duration(required("step_duration"), p("step_duration"), false);
          if (s.max_rate < s.start_rate) Fail(n["max_rate"], p("max_rate"), "must be at least start_rate");
          if (n["min_rate"]) {
            s.min_rate = Rate(n["min_rate"], p("min_rate"), false);
            if (s.min_rate > s.start_rate) Fail(n["min_rate"], p("min_rate"), "must be at most start_rate");
          }
        }
        if (n["time_unit"]) s.time_unit = Duration(n["time_unit"], p("time_unit"), false);
        s.pre_allocated_vus = Int(required("pre_allocated_vus"), p("pre_allocated_vus"), 1);
        s.max_vus = n["max_vus"] ? Int(n["max_vus"], p("max_vus"), 1) : s.pre_allocated_vus;
        if (s.max_vus < s.pre_allocated_vus) {
          Fail(n["max_vus"], p("max_vus"),
               fmt::format("max_vus ({}) is below pre_allocated_vus ({})", s.max_vus, s.pre_allocated_vus));
        }
        break;
    }
    if (Node env = n["env"]) {
      RequireMap(env, p("env"));
      for (const auto& kv : env) s.env[kv.first.Scalar()] = String(kv.second, Join(p("env"), kv.first.Scalar()));
    }
    scenario_env_ = s.env;
    defined_.clear();
    Node flow = n["flow"];
    if (!flow) Fail(n, path, "missing `flow`: the steps each iteration runs");
    RequireSeq(flow, p("flow"));
    if (flow.size() == 0) Fail(flow, p("flow"), "a flow needs at least one step");
    CollectDefinedNames(flow);
    if (Node tags = n["tags"]) {
      RequireMap(tags, p("tags"));
      for (const auto& kv : tags) {
        std::string tp = Join(p("tags"), kv.first.Scalar());
        s.tags[kv.first.Scalar()] = Compile(kv.second, tp);
        // Tag values are recorded in every result, series and Prometheus label.
        for (const std::string& name : s.tags[kv.first.Scalar()].Names()) {
          if (secret_vars_.count(name) > 0) {
            Fail(kv.second, tp, fmt::format("`{}` is secret: a tag value would record it in every result", name));
          }
        }
      }
    }
    s.flow = StepList(flow, p("flow"));
    return s;
  }

  std::vector<Stage> Stages(const Node& n, const std::string& path, bool rate) {
    RequireSeq(n, path);
    if (n.size() == 0) Fail(n, path, "needs at least one stage");
    std::vector<Stage> out;
    Nanos total = 0;
    for (size_t i = 0; i < n.size(); ++i) {
      std::string sp = Index(path, i);
      Node st = n[i];
      RequireMap(st, sp);
      CheckKeys(st, sp, {"duration", "target"});
      if (!st["duration"]) Fail(st, sp, "missing `duration`");
      if (!st["target"]) Fail(st, sp, "missing `target`");
      Stage s;
      s.duration = Duration(st["duration"], Join(sp, "duration"), true);
      s.target = rate ? Rate(st["target"], Join(sp, "target"), true)
                      : static_cast<double>(Int(st["target"], Join(sp, "target"), 0));
      total += s.duration;
      out.push_back(s);
    }
    if (total == 0) Fail(n, path, "the stages last zero seconds in total");
    return out;
  }

  // Names captured (`as`) or `set` anywhere in a flow: templates may use them.
  void CollectDefinedNames(const Node& n) {
    if (n.IsSequence()) {
      for (const auto& item : n) CollectDefinedNames(item);
    } else if (n.IsMap()) {
      for (const auto& kv : n) {
        std::string key = kv.first.Scalar();
        if (key == "as" && kv.second.IsScalar()) defined_.insert(kv.second.Scalar());
        if (key == "set" && kv.second.IsMap()) {
          for (const auto& s : kv.second) defined_.insert(s.first.Scalar());
        }
        CollectDefinedNames(kv.second);
      }
    }
  }

  // ---- steps ---------------------------------------------------------------------------
  Steps StepList(const Node& n, const std::string& path) {
    RequireSeq(n, path);
    Steps out;
    for (size_t i = 0; i < n.size(); ++i) out.push_back(OneStep(n[i], Index(path, i), {}));
    return out;
  }

  Step OneStep(const Node& n, const std::string& path, const std::vector<std::string>& extra_keys) {
    static const std::vector<std::string> kKinds = {"request", "think", "pick", "loop", "group", "set", "ws", "sql"};
    RequireMap(n, path);
    std::vector<std::string> allowed = kKinds;
    allowed.insert(allowed.end(), extra_keys.begin(), extra_keys.end());
    CheckKeys(n, path, allowed, " (a step is one of request, think, pick, loop, group, set, ws, sql)");
    std::string kind;
    for (const auto& kv : n) {
      std::string key = kv.first.Scalar();
      if (std::find(kKinds.begin(), kKinds.end(), key) == kKinds.end()) continue;
      if (!kind.empty())
        Fail(kv.first, Join(path, key), fmt::format("a step has one kind, found `{}` and `{}`", kind, key));
      kind = key;
    }
    if (kind.empty()) Fail(n, path, "empty step: expected one of request, think, pick, loop, group, set");
    Step step;
    step.pos = PosOf(n);
    Node body = n[kind];
    std::string bp = Join(path, kind);
    if (kind == "request")
      step.body = Request(body, bp);
    else if (kind == "think")
      step.body = Think(body, bp);
    else if (kind == "pick")
      step.body = Pick(body, bp);
    else if (kind == "loop")
      step.body = Loop(body, bp);
    else if (kind == "group")
      step.body = Group(body, bp);
    else if (kind == "set")
      step.body = Set(body, bp);
    else if (kind == "ws")
      step.body = Ws(body, bp);
    else
      step.body = Sql(body, bp);
    return step;
  }

  // ---- WebSocket -----------------------------------------------------------------------
  WsStep Ws(const Node& n, const std::string& path) {
    RequireMap(n, path);
    CheckKeys(n, path, {"name", "url", "headers", "subprotocols", "timeout", "max_message_size", "tags", "steps"});
    WsStep w;
    if (!n["url"]) Fail(n, path, "missing `url`");
    w.url_text = String(n["url"], Join(path, "url"));
    w.url = CompileText(n["url"], Join(path, "url"), w.url_text);
    std::string literal = w.url.LiteralPrefix();
    bool absolute = literal.find("://") != std::string::npos;
    if (absolute && !literal.starts_with("ws://") && !literal.starts_with("wss://")) {
      Fail(n["url"], Join(path, "url"),
           "a WebSocket URL starts with ws:// or wss:// (or is a path on the test's target)");
    }
    if (!absolute && !w.url_text.starts_with("/") && !w.url_text.starts_with("{{")) {
      Fail(n["url"], Join(path, "url"), "expected ws://host/path, wss://host/path or a path starting with /");
    }
    if (!absolute && target_->empty()) Fail(n["url"], Join(path, "url"), "a relative URL needs the test's `target`");
    if (absolute && literal.find('/', literal.find("://") + 3) == std::string::npos && !w.url.is_literal()) {
      Fail(n["url"], Join(path, "url"),
           "the scheme and host of a WebSocket URL cannot be templated (the connection is set up once per origin)");
    }
    w.name = n["name"] ? String(n["name"], Join(path, "name")) : n["url"].Scalar();
    if (n["headers"]) w.headers = Pairs(n["headers"], Join(path, "headers"));
    if (Node sp = n["subprotocols"]) {
      RequireSeq(sp, Join(path, "subprotocols"));
      for (size_t i = 0; i < sp.size(); ++i)
        w.subprotocols.push_back(String(sp[i], Index(Join(path, "subprotocols"), i)));
    }
    if (n["timeout"]) w.timeout = Duration(n["timeout"], Join(path, "timeout"), false);
    if (n["max_message_size"]) {
      auto sz = ParseSize(String(n["max_message_size"], Join(path, "max_message_size")));
      if (!sz.ok() || *sz <= 0)
        Fail(n["max_message_size"], Join(path, "max_message_size"), "expected a size such as 64KB or 16MB");
      w.max_message = static_cast<size_t>(*sz);
    }
    if (Node tags = n["tags"]) {
      RequireMap(tags, Join(path, "tags"));
      for (const auto& kv : tags)
        w.tags[kv.first.Scalar()] = String(kv.second, Join(Join(path, "tags"), kv.first.Scalar()));
    }
    if (!n["steps"]) Fail(n, path, "missing `steps` (send, receive, think, loop, close)");
    w.steps = WsActionList(n["steps"], Join(path, "steps"));
    return w;
  }

  WsActions WsActionList(const Node& n, const std::string& path) {
    RequireSeq(n, path);
    WsActions out;
    for (size_t i = 0; i < n.size(); ++i) {
      std::string ap = Index(path, i);
      Node a = n[i];
      RequireMap(a, ap);
      static const std::vector<std::string> kKinds = {"send", "receive", "think", "loop", "close"};
      CheckKeys(a, ap, kKinds, " (inside `ws`, a step is one of send, receive, think, loop, close)");
      if (a.size() != 1) Fail(a, ap, "a step has one kind");
      std::string kind = a.begin()->first.Scalar();
      Node body = a[kind];
      std::string bp = Join(ap, kind);
      WsAction act;
      act.pos = PosOf(a);
      if (kind == "send") {
        WsSend s;
        if (body.IsMap()) {
          CheckKeys(body, bp, {"text", "binary", "fragment"});
          if (body["fragment"]) {
            auto sz = ParseSize(String(body["fragment"], Join(bp, "fragment")));
            if (!sz.ok() || *sz <= 0) Fail(body["fragment"], Join(bp, "fragment"), "expected a size such as 1KB");
            s.fragment = static_cast<size_t>(*sz);
          }
          if (body["text"] && body["binary"]) Fail(body, bp, "use either `text` or `binary`");
          if (body["binary"]) {
            s.binary = true;
            s.bytes = Base64Decode(body["binary"], Join(bp, "binary"));
          } else if (body["text"]) {
            s.text = Compile(body["text"], Join(bp, "text"));
          } else {
            Fail(body, bp, "missing `text` or `binary`");
          }
        } else {
          s.text = Compile(body, bp);
        }
        act.body = std::move(s);
      } else if (kind == "receive") {
        WsReceive r;
        if (body.IsMap()) {
          CheckKeys(body, bp, {"match", "timeout"});
          if (body["match"]) r.match = Compile(body["match"], Join(bp, "match"));
          if (body["timeout"]) r.timeout = Duration(body["timeout"], Join(bp, "timeout"), false);
        } else if (!body.IsNull()) {
          r.match = Compile(body, bp);
        }
        act.body = std::move(r);
      } else if (kind == "think") {
        act.body = Think(body, bp);
      } else if (kind == "loop") {
        RequireMap(body, bp);
        CheckKeys(body, bp, {"count", "steps"});
        if (!body["count"]) Fail(body, bp, "a loop inside `ws` needs `count`");
        if (!body["steps"]) Fail(body, bp, "missing `steps`");
        WsLoop l;
        l.count = Int(body["count"], Join(bp, "count"), 0);
        l.steps = WsActionList(body["steps"], Join(bp, "steps"));
        act.body = std::move(l);
      } else {
        WsClose c;
        if (body.IsMap()) {
          CheckKeys(body, bp, {"code", "reason"});
          if (body["code"]) {
            int64_t code = Int(body["code"], Join(bp, "code"), 1000);
            if (!(code == 1000 || (code >= 3000 && code <= 4999))) {
              Fail(body["code"], Join(bp, "code"), "a client closes with 1000 or an application code 3000-4999");
            }
            c.code = static_cast<uint16_t>(code);
          }
          if (body["reason"]) {
            c.reason = String(body["reason"], Join(bp, "reason"));
            if (c.reason.size() > 123) Fail(body["reason"], Join(bp, "reason"), "a close reason is at most 123 bytes");
          }
        } else if (!body.IsNull() && !(body.IsScalar() && (body.Scalar() == "true" || body.Scalar().empty()))) {
          Fail(body, bp, "expected `close: {}`, `close: true` or `close: {code, reason}`");
        }
        act.body = std::move(c);
      }
      out.push_back(std::move(act));
    }
    return out;
  }

  std::string Base64Decode(const Node& n, const std::string& path) {
    std::string text = String(n, path);
    text.erase(std::remove_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == ' '; }), text.end());
    if (text.size() % 4 != 0) Fail(n, path, "invalid base64 (length is not a multiple of 4)");
    std::string out(text.size() / 4 * 3, '\0');
    int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                              reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (len < 0) Fail(n, path, "invalid base64");
    size_t pad = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
    out.resize(static_cast<size_t>(len) - pad);
    return out;
  }

  // ---- SQL -----------------------------------------------------------------------------
  void LoadDatabases(const Node& n, TestDefinition& def) {
    RequireMap(n, "databases");
    for (const auto& kv : n) {
      std::string name = kv.first.Scalar();
      std::string path = Join("databases", name);
      Node d = kv.second;
      RequireMap(d, path);
      CheckKeys(d, path, {"url", "pool"});
      if (!d["url"]) Fail(d, path, "missing `url` (postgres://user:password@host:port/database)");
      DatabaseDef db;
      db.pos = PosOf(kv.first);
      db.name = name;
      db.url = String(d["url"], Join(path, "url"));
      if (!db.url.starts_with("postgres://") && !db.url.starts_with("postgresql://")) {
        Fail(d["url"], Join(path, "url"), "expected a postgres:// or postgresql:// URL");
      }
      if (d["pool"]) db.pool = Int(d["pool"], Join(path, "pool"), 1);
      if (std::string pw = UrlPassword(db.url); !pw.empty()) def.secrets.push_back(pw);
      def.databases.push_back(std::move(db));
    }
  }

  SqlStep Sql(const Node& n, const std::string& path) {
    RequireMap(n, path);
    CheckKeys(n, path, {"name", "db", "query", "params", "timeout", "tags", "capture", "check"});
    SqlStep q;
    if (!n["db"]) Fail(n, path, "missing `db`: a name under the top-level `databases`");
    q.db = String(n["db"], Join(path, "db"));
    for (size_t i = 0; i < databases_->size(); ++i) {
      if ((*databases_)[i].name == q.db) q.db_index = static_cast<int>(i);
    }
    if (q.db_index < 0) {
      std::vector<std::string> names;
      for (const DatabaseDef& d : *databases_) names.push_back(d.name);
      std::string s = Suggest(q.db, names);
      Fail(n["db"], Join(path, "db"),
           fmt::format("no database `{}` under `databases`{}", q.db,
                       s.empty() ? "" : fmt::format(" (did you mean `{}`?)", s)));
    }
    if (!n["query"]) Fail(n, path, "missing `query`");
    q.query = String(n["query"], Join(path, "query"));
    if (q.query.find("{{") != std::string::npos) {
      Fail(n["query"], Join(path, "query"),
           "a query is prepared once: pass values as $1, $2 ... with `params`, not templates");
    }
    q.name = n["name"] ? String(n["name"], Join(path, "name")) : q.query;
    if (Node ps = n["params"]) {
      RequireSeq(ps, Join(path, "params"));
      for (size_t i = 0; i < ps.size(); ++i) q.params.push_back(Compile(ps[i], Index(Join(path, "params"), i)));
    }
    // $N placeholders must have a parameter each.
    int highest = 0;
    for (size_t i = 0; i + 1 < q.query.size(); ++i) {
      if (q.query[i] != '$' || !std::isdigit(static_cast<unsigned char>(q.query[i + 1]))) continue;
      highest = std::max(highest, std::atoi(q.query.c_str() + i + 1));
    }
    if (static_cast<size_t>(highest) != q.params.size()) {
      Fail(n["params"] ? n["params"] : n["query"], Join(path, n["params"] ? "params" : "query"),
           fmt::format("the query uses ${} parameters but `params` has {}", highest, q.params.size()));
    }
    if (n["timeout"]) q.timeout = Duration(n["timeout"], Join(path, "timeout"), false);
    if (Node tags = n["tags"]) {
      RequireMap(tags, Join(path, "tags"));
      for (const auto& kv : tags)
        q.tags[kv.first.Scalar()] = String(kv.second, Join(Join(path, "tags"), kv.first.Scalar()));
    }
    if (Node c = n["capture"]) {
      RequireSeq(c, Join(path, "capture"));
      for (size_t i = 0; i < c.size(); ++i) {
        std::string cp = Index(Join(path, "capture"), i);
        RequireMap(c[i], cp);
        CheckKeys(c[i], cp, {"column", "as"});
        if (!c[i]["column"] || !c[i]["as"]) Fail(c[i], cp, "a SQL capture is {column: NAME, as: VARIABLE} (first row)");
        q.captures.push_back({String(c[i]["column"], Join(cp, "column")), String(c[i]["as"], Join(cp, "as"))});
      }
    }
    if (Node c = n["check"]) {
      RequireSeq(c, Join(path, "check"));
      for (size_t i = 0; i < c.size(); ++i) {
        std::string cp = Index(Join(path, "check"), i);
        RequireMap(c[i], cp);
        CheckKeys(c[i], cp, {"rows", "max_duration", "name"});
        SqlCheck ck;
        if (c[i]["rows"] && c[i]["max_duration"]) Fail(c[i], cp, "a check has exactly one of rows, max_duration");
        if (c[i]["rows"]) {
          ck.rows = Int(c[i]["rows"], Join(cp, "rows"), 0);
          ck.label = fmt::format("rows == {}", ck.rows);
        } else if (c[i]["max_duration"]) {
          ck.max_duration = Duration(c[i]["max_duration"], Join(cp, "max_duration"), false);
          ck.label = fmt::format("duration <= {}", c[i]["max_duration"].Scalar());
        } else {
          Fail(c[i], cp, "a SQL check is {rows: N} or {max_duration: D}");
        }
        if (c[i]["name"]) ck.label = String(c[i]["name"], Join(cp, "name"));
        q.checks.push_back(std::move(ck));
      }
    }
    return q;
  }

  RequestStep Request(const Node& n, const std::string& path) {
    RequireMap(n, path);
    CheckKeys(
        n, path,
        {"name", "method", "url", "headers", "query", "body", "json", "form", "timeout", "tags", "capture", "check"});
    RequestStep r;
    if (!n["url"]) Fail(n, path, "missing `url`");
    if (n["method"]) {
      r.method = String(n["method"], Join(path, "method"));
      std::transform(r.method.begin(), r.method.end(), r.method.begin(),
                     [](char c) { return static_cast<char>(std::toupper(c)); });
      static const std::vector<std::string> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
      if (std::find(kMethods.begin(), kMethods.end(), r.method) == kMethods.end()) {
        Fail(n["method"], Join(path, "method"), fmt::format("unknown method `{}`", r.method));
      }
    }
    std::string url_text = String(n["url"], Join(path, "url"));
    r.url = CompileText(n["url"], Join(path, "url"), url_text);
    if (std::string lit = r.url.LiteralPrefix();
        lit.find("://") != std::string::npos && !lit.starts_with("http://") && !lit.starts_with("https://")) {
      Fail(n["url"], Join(path, "url"),
           lit.starts_with("ws") ? "a request URL is http:// or https:// (use a `ws` step for WebSocket)"
                                 : "a request URL is http://, https:// or a path on the target");
    }
    if (std::string lit = r.url.LiteralPrefix(); target_->empty() && !relative_url_.has_value() &&
                                                 !lit.starts_with("http://") && !lit.starts_with("https://") &&
                                                 (!lit.empty() || r.url.is_literal())) {
      // A path (a URL that starts with a template may render absolute: that is for the run).
      // Reported once the whole file is read, after any other mistake in it.
      relative_url_ = std::make_pair(PosOf(n["url"]), Join(path, "url"));
    }
    // The default name is the URL as written, ${VARS} unexpanded: a password in a URL must not
    // become a tag recorded in every result.
    r.name = n["name"] ? String(n["name"], Join(path, "name")) : r.method + " " + n["url"].Scalar();
    if (n["headers"]) r.headers = Pairs(n["headers"], Join(path, "headers"));
    if (n["query"]) r.query = Pairs(n["query"], Join(path, "query"));
    int bodies = 0;
    if (Node b = n["body"]) {
      ++bodies;
      r.body_kind = RequestStep::Body::kRaw;
      r.body = Compile(b, Join(path, "body"));
    }
    if (Node j = n["json"]) {
      ++bodies;
      r.body_kind = RequestStep::Body::kJson;
      std::vector<JsonBody::Slot> slots;
      nlohmann::ordered_json value = ToJson(j, Join(path, "json"), &slots);
      auto body = JsonBody::Build(value, std::move(slots));
      if (!body.ok()) Fail(j, Join(path, "json"), body.error().message);
      r.json = std::move(body).value();
    }
    if (Node f = n["form"]) {
      ++bodies;
      r.body_kind = RequestStep::Body::kForm;
      r.form = Pairs(f, Join(path, "form"));
    }
    if (bodies > 1) Fail(n, path, "use one of `body`, `json` and `form`");
    if (n["timeout"]) r.timeout = Duration(n["timeout"], Join(path, "timeout"), false);
    if (Node tags = n["tags"]) {
      RequireMap(tags, Join(path, "tags"));
      for (const auto& kv : tags)
        r.tags[kv.first.Scalar()] = String(kv.second, Join(Join(path, "tags"), kv.first.Scalar()));
    }
    if (Node c = n["capture"]) r.captures = Captures(c, Join(path, "capture"));
    if (Node c = n["check"]) r.checks = Checks(c, Join(path, "check"));
    return r;
  }

  // A YAML value as JSON, keys in the order written. Strings holding templates become
  // JsonBody slots (`slots`), compiled here so that their errors point into the file.
  // An unquoted YAML scalar that is a JSON number or boolean as written (`.5`, `0x1F` and
  // `inf` are YAML's numbers, not JSON's: they stay strings).
  static bool IsPlainJsonScalar(const Node& n) {
    if (!n.IsScalar() || n.Tag() == "!") return false;
    auto j = nlohmann::json::parse(n.Scalar(), nullptr, false);
    return !j.is_discarded() && (j.is_number() || j.is_boolean());
  }

  nlohmann::ordered_json ToJson(const Node& n, const std::string& path, std::vector<JsonBody::Slot>* slots) {
    auto slot = [&](const Node& at, const std::string& p, const std::string& text, bool key) {
      slots->push_back({CompileText(at, p, text), key});
      return JsonBody::Marker(slots->size() - 1);
    };
    if (n.IsMap()) {
      nlohmann::ordered_json o = nlohmann::ordered_json::object();
      for (const auto& kv : n) {
        std::string key = kv.first.Scalar(), kp = Join(path, key);
        if (o.contains(key)) Fail(kv.first, kp, fmt::format("duplicate key `{}`", key));
        std::string k = key.find("{{") != std::string::npos ? slot(kv.first, kp, key, true) : key;
        o[k] = ToJson(kv.second, kp, slots);
      }
      return o;
    }
    if (n.IsSequence()) {
      nlohmann::ordered_json a = nlohmann::ordered_json::array();
      for (size_t i = 0; i < n.size(); ++i) a.push_back(ToJson(n[i], Index(path, i), slots));
      return a;
    }
    if (n.IsNull()) return nullptr;
    std::string s = String(n, path);
    if (s.find("{{") != std::string::npos) return slot(n, path, s, false);
    if (n.Tag() != "!") {  // plain scalars: numbers and booleans keep their JSON type
      if (s == "true") return true;
      if (s == "false") return false;
      char* end = nullptr;
      long long i = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && end == s.c_str() + s.size()) return i;
      double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size()) return d;
    }
    return s;
  }

  std::vector<Capture> Captures(const Node& n, const std::string& path) {
    RequireSeq(n, path);
    std::vector<Capture> out;
    for (size_t i = 0; i < n.size(); ++i) {
      std::string cp = Index(path, i);
      Node c = n[i];
      RequireMap(c, cp);
      CheckKeys(c, cp, {"json", "header", "regex", "as"});
      if (!c["as"]) Fail(c, cp, "missing `as`: the variable the capture sets");
      Capture cap;
      cap.as = String(c["as"], Join(cp, "as"));
      int kinds = 0;
      if (c["json"]) {
        ++kinds;
        cap.kind = Capture::Kind::kJson;
        cap.source = String(c["json"], Join(cp, "json"));
        cap.path = Path(c["json"], Join(cp, "json"), cap.source);
      }
      if (c["header"]) {
        ++kinds;
        cap.kind = Capture::Kind::kHeader;
        cap.source = String(c["header"], Join(cp, "header"));
      }
      if (c["regex"]) {
        ++kinds;
        cap.kind = Capture::Kind::kRegex;
        cap.source = String(c["regex"], Join(cp, "regex"));
        try {
          cap.regex = std::make_shared<const std::regex>(cap.source, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          Fail(c["regex"], Join(cp, "regex"), fmt::format("invalid regular expression: {}", e.what()));
        }
        if (cap.regex->mark_count() > 1) {
          Fail(c["regex"], Join(cp, "regex"), "use at most one capturing group: its match is the value");
        }
      }
      if (kinds != 1) Fail(c, cp, "a capture has exactly one of `json`, `header` and `regex`");
      out.push_back(std::move(cap));
    }
    return out;
  }

  std::vector<Check> Checks(const Node& n, const std::string& path) {
    RequireSeq(n, path);
    std::vector<Check> out;
    for (size_t i = 0; i < n.size(); ++i) {
      std::string cp = Index(path, i);
      Node c = n[i];
      RequireMap(c, cp);
      CheckKeys(c, cp, {"status", "body_contains", "json", "header", "max_duration", "name"});
      Check ck;
      int kinds = 0;
      if (Node s = c["status"]) {
        ++kinds;
        ck.kind = Check::Kind::kStatus;
        if (s.IsSequence()) {
          for (size_t j = 0; j < s.size(); ++j)
            ck.statuses.push_back(static_cast<int>(Int(s[j], Index(Join(cp, "status"), j), 100)));
        } else {
          ck.statuses.push_back(static_cast<int>(Int(s, Join(cp, "status"), 100)));
        }
        std::string list;
        for (int st : ck.statuses) list += (list.empty() ? "" : ", ") + std::to_string(st);
        ck.label = ck.statuses.size() == 1 ? "status == " + list : "status in [" + list + "]";
      }
      if (Node b = c["body_contains"]) {
        ++kinds;
        ck.kind = Check::Kind::kBodyContains;
        ck.subject = String(b, Join(cp, "body_contains"));
        ck.label = fmt::format("body contains \"{}\"", ck.subject);
      }
      if (Node j = c["json"]) {
        ++kinds;
        ck.kind = Check::Kind::kJson;
        RequireMap(j, Join(cp, "json"));
        CheckKeys(j, Join(cp, "json"), {"path", "equals"});
        if (!j["path"]) Fail(j, Join(cp, "json"), "missing `path`");
        ck.subject = String(j["path"], Join(Join(cp, "json"), "path"));
        ck.path = Path(j["path"], Join(Join(cp, "json"), "path"), ck.subject);
        if (j["equals"]) ck.equals = String(j["equals"], Join(Join(cp, "json"), "equals"));
        ck.label = ck.equals ? fmt::format("{} == {}", ck.subject, *ck.equals) : fmt::format("{} exists", ck.subject);
      }
      if (Node h = c["header"]) {
        ++kinds;
        ck.kind = Check::Kind::kHeader;
        RequireMap(h, Join(cp, "header"));
        CheckKeys(h, Join(cp, "header"), {"name", "equals"});
        if (!h["name"]) Fail(h, Join(cp, "header"), "missing `name`");
        ck.subject = String(h["name"], Join(Join(cp, "header"), "name"));
        if (h["equals"]) ck.equals = String(h["equals"], Join(Join(cp, "header"), "equals"));
        ck.label = ck.equals ? fmt::format("header {} == {}", ck.subject, *ck.equals)
                             : fmt::format("header {} exists", ck.subject);
      }
      if (Node m = c["max_duration"]) {
        ++kinds;
        ck.kind = Check::Kind::kMaxDuration;
        ck.max_duration = Duration(m, Join(cp, "max_duration"), false);
        ck.label = fmt::format("duration <= {}", m.Scalar());
      }
      if (kinds != 1) Fail(c, cp, "a check has exactly one of status, body_contains, json, header, max_duration");
      if (c["name"]) ck.label = String(c["name"], Join(cp, "name"));
      out.push_back(std::move(ck));
    }
    return out;
  }

  JsonPath Path(const Node& n, const std::string& path, const std::string& text) {
    size_t offset = 0;
    auto p = JsonPath::Parse(text, &offset);
    if (!p.ok()) {
      SourcePos pos = PosOf(n);
      pos.col += static_cast<int>(offset) + (n.Tag() == "!" ? 1 : 0);
      Fail(pos, path, p.error().message);
    }
    return std::move(p).value();
  }

  ThinkStep Think(const Node& n, const std::string& path) {
    ThinkStep t;
    if (n.IsScalar()) {
      t.a = Duration(n, path, true);
      return t;
    }
    RequireMap(n, path);
    CheckKeys(n, path, {"min", "max", "exponential"});
    if (n["exponential"]) {
      t.kind = ThinkStep::Kind::kExponential;
      t.a = Duration(n["exponential"], Join(path, "exponential"), false);
      if (n["min"] || n["max"]) Fail(n, path, "use either {min, max} or {exponential: mean}");
      return t;
    }
    if (!n["min"] || !n["max"]) Fail(n, path, "think needs a duration, {min, max} or {exponential: mean}");
    t.kind = ThinkStep::Kind::kUniform;
    t.a = Duration(n["min"], Join(path, "min"), true);
    t.b = Duration(n["max"], Join(path, "max"), true);
    if (t.b < t.a) Fail(n["max"], Join(path, "max"), "max is below min");
    return t;
  }

  PickStep Pick(const Node& n, const std::string& path) {
    RequireSeq(n, path);
    if (n.size() == 0) Fail(n, path, "pick needs at least one choice");
    PickStep p;
    for (size_t i = 0; i < n.size(); ++i) {
      std::string cp = Index(path, i);
      RequireMap(n[i], cp);
      if (!n[i]["weight"]) Fail(n[i], cp, "missing `weight`");
      p.weights.push_back(Number(n[i]["weight"], Join(cp, "weight"), 0, true));
      p.choices.push_back(OneStep(n[i], cp, {"weight"}));
    }
    return p;
  }

  LoopStep Loop(const Node& n, const std::string& path) {
    RequireMap(n, path);
    CheckKeys(n, path, {"count", "while", "max", "steps"});
    LoopStep l;
    if (n["count"] && n["while"]) Fail(n, path, "use either `count` or `while`");
    if (n["count"])
      l.count = Int(n["count"], Join(path, "count"), 0);
    else if (n["while"])
      l.condition = Compile(n["while"], Join(path, "while"));
    else
      Fail(n, path, "a loop needs `count` or `while`");
    if (n["max"]) {
      // A cap on a `while` loop's passes; a `count` loop has its count (nothing silently ignored).
      if (n["count"]) Fail(n["max"], Join(path, "max"), "`max` caps a `while` loop; this loop has a `count`");
      l.max = Int(n["max"], Join(path, "max"), 1);
    }
    if (!n["steps"]) Fail(n, path, "missing `steps`");
    l.steps = StepList(n["steps"], Join(path, "steps"));
    return l;
  }

  GroupStep Group(const Node& n, const std::string& path) {
    RequireMap(n, path);
    CheckKeys(n, path, {"name", "steps"});
    if (!n["name"]) Fail(n, path, "missing `name`");
    if (!n["steps"]) Fail(n, path, "missing `steps`");
    GroupStep g;
    g.name = String(n["name"], Join(path, "name"));
    g.steps = StepList(n["steps"], Join(path, "steps"));
    return g;
  }

  SetStep Set(const Node& n, const std::string& path) {
    SetStep s;
    s.values = Pairs(n, path);
    return s;
  }

  // ---- thresholds ----------------------------------------------------------------------
  void LoadThresholds(const Node& n, TestDefinition& def) {
    RequireMap(n, "thresholds");
    for (const auto& kv : n) {
      std::string key = kv.first.Scalar();
      std::string path = Join("thresholds", key);
      auto sel = ParseMetricSelector(key);
      if (!sel.ok()) Fail(kv.first, path, sel.error().message);
      const MetricInfo* known = FindMetric(sel->metric);
      if (sel->metric == "http_req_blocked" || sel->metric == "http_req_sending" ||
          sel->metric == "http_req_receiving") {
        Fail(kv.first, path,
             fmt::format("`{}` is not measured yet (k6 has it; loadcell records http_req_connecting, "
                         "http_req_tls_handshaking and http_req_waiting)",
                         sel->metric));
      }
      if (known == nullptr) {
        std::string s = Suggest(sel->metric, MetricNames());
        Fail(kv.first, path,
             fmt::format("unknown metric `{}`{}", sel->metric,
                         s.empty() ? "" : fmt::format(" (did you mean `{}`?)", s)));
      }
      ThresholdDef t;
      t.pos = PosOf(kv.first);
      t.key = key;
      t.selector = *sel;
      t.counter = known->type == MetricType::kCounter;
      // yaml-cpp's Node::operator= writes through to the document, so nodes are re-pointed
      // with reset() here, never assigned.
      Node list;
      list.reset(kv.second);
      if (list.IsScalar()) {
        Node seq(YAML::NodeType::Sequence);
        seq.push_back(kv.second);
        list.reset(seq);
      }
      RequireSeq(list, path);
      for (size_t i = 0; i < list.size(); ++i) {
        std::string ep = Index(path, i);
        Node item = list[i];
        Node text;
        text.reset(item);
        if (item.IsMap()) {
          CheckKeys(item, ep, {"threshold", "abort_on_fail", "delay_abort_eval"});
          if (!item["threshold"]) Fail(item, ep, "missing `threshold`");
          text.reset(item["threshold"]);
        }
        auto e = ParseThresholdExpr(String(text, ep));
        if (!e.ok()) Fail(text, ep, e.error().message);
        CheckAggregate(text, ep, known->type, *e);
        if (item.IsMap()) {
          if (item["abort_on_fail"]) e.value().abort_on_fail = Bool(item["abort_on_fail"], Join(ep, "abort_on_fail"));
          if (item["delay_abort_eval"]) {
            e.value().delay_abort_eval = Duration(item["delay_abort_eval"], Join(ep, "delay_abort_eval"), true);
          }
        }
        t.exprs.push_back(std::move(e).value());
      }
      def.thresholds.push_back(std::move(t));
    }
  }

  // What the steps of a test can tag a sample with, for thresholds' filters.
  struct TagSpace {
    std::set<std::string> scenarios, groups{""}, names, keys;
  };

  static void CollectTags(const Steps& steps, const std::string& group, TagSpace& t) {
    for (const Step& step : steps) {
      if (const auto* r = std::get_if<RequestStep>(&step.body)) {
        t.names.insert(r->name);
        for (const auto& [k, _] : r->tags) t.keys.insert(k);
      } else if (const auto* w = std::get_if<WsStep>(&step.body)) {
        t.names.insert(w->name);
        for (const auto& [k, _] : w->tags) t.keys.insert(k);
      } else if (const auto* q = std::get_if<SqlStep>(&step.body)) {
        t.names.insert(q->name);
        for (const auto& [k, _] : q->tags) t.keys.insert(k);
      } else if (const auto* p = std::get_if<PickStep>(&step.body)) {
        CollectTags(p->choices, group, t);
      } else if (const auto* l = std::get_if<LoopStep>(&step.body)) {
        CollectTags(l->steps, group, t);
      } else if (const auto* g = std::get_if<GroupStep>(&step.body)) {
        std::string path = group + "::" + g->name;
        t.groups.insert(path);
        CollectTags(g->steps, path, t);
      }
    }
  }

  // A threshold whose filter no sample can carry would pass on no data: a broken SLO gate
  // that looks green. Scenario, group and request names are all known here.
  void CheckThresholdFilters(const Node& n, const TestDefinition& def) {
    TagSpace t;
    t.keys = {"scenario", "group", "name", "method", "status", "check", "kind", "capture", "db"};
    for (const ScenarioDef& s : def.scenarios) {
      t.scenarios.insert(s.name);
      for (const auto& [k, _] : s.tags) t.keys.insert(k);
      CollectTags(s.flow, "", t);
    }
    auto values = [](const std::set<std::string>& set) { return std::vector<std::string>(set.begin(), set.end()); };
    size_t i = 0;
    for (const auto& kv : n) {
      const ThresholdDef& th = def.thresholds[i++];
      std::string path = Join("thresholds", th.key);
      for (const auto& [key, value] : th.selector.tags) {
        if (t.keys.count(key) == 0) {
          std::string s = Suggest(key, values(t.keys));
          Fail(kv.first, path,
               fmt::format("no sample carries the tag `{}`{}", key,
                           s.empty() ? "" : fmt::format(" (did you mean `{}`?)", s)));
        }
        const std::set<std::string>* known = key == "scenario" ? &t.scenarios
                                             : key == "group"  ? &t.groups
                                             : key == "name"   ? &t.names
                                                               : nullptr;
        if (known == nullptr || known->count(value) != 0) continue;
        std::string s = key == "group" && known->count("::" + value) ? "::" + value : Suggest(value, values(*known));
        std::string what = key == "scenario" ? "no scenario is named"
                           : key == "group"  ? "no group has the path"
                                             : "no step is named";
        std::string hint = key == "group" ? " (group paths start with `::`, nested ones are `::outer::inner`)" : "";
        Fail(kv.first, path,
             fmt::format("{} `{}`{}{}", what, value, s.empty() ? "" : fmt::format(" (did you mean `{}:{}`?)", key, s),
                         s.empty() ? hint : ""));
      }
    }
  }

  void CheckAggregate(const Node& n, const std::string& path, MetricType type, const ThresholdExpr& e) {
    using A = ThresholdExpr::Aggregate;
    bool ok = false;
    const char* allowed = "";
    switch (type) {
      case MetricType::kTrend:
        ok = e.aggregate == A::kPercentile || e.aggregate == A::kAvg || e.aggregate == A::kMed ||
             e.aggregate == A::kMin || e.aggregate == A::kMax;
        allowed = "p(N), avg, med, min, max";
        break;
      case MetricType::kRate:
        ok = e.aggregate == A::kRate;
        allowed = "rate";
        break;
      case MetricType::kCounter:
        ok = e.aggregate == A::kCount || e.aggregate == A::kRate;
        allowed = "count, rate";
        break;
      case MetricType::kGauge:
        ok = e.aggregate == A::kValue || e.aggregate == A::kMin || e.aggregate == A::kMax;
        allowed = "value, min, max";
        break;
    }
    if (!ok) Fail(n, path, fmt::format("\"{}\" does not apply to this metric (use {})", e.source, allowed));
  }

  std::string file_;
  const LoadOptions& options_;
  const std::map<std::string, std::string>* vars_ = nullptr;
  const std::vector<DataFeeder>* data_ = nullptr;
  const std::vector<DatabaseDef>* databases_ = nullptr;
  const std::string* target_ = nullptr;
  std::optional<std::pair<SourcePos, std::string>> relative_url_;  // the first path, when there is no target
  std::map<std::string, std::string> scenario_env_;
  std::set<std::string> defined_;
};

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
