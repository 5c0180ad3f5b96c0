// Lua in a test: the `script:` file, Lua expressions (in templates, `if`/`while`
// conditions, `record` values), the `if`, `while` and `record` steps, and `metrics:`.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "scenario/loader_parts.h"

namespace loadcell::loading {
namespace {

// What an expression may read besides the script's and the sandbox's globals.
const std::vector<std::string>& VuNames() {
  static const std::vector<std::string> kNames = {"vu",   "iteration", "iteration_in_test", "scenario", "vars", "env",
                                                  "data", "status",    "headers",           "body",     "json"};
  return kNames;
}

bool ValidMetricName(const std::string& name) {
  if (name.empty() || name.size() > 100 || std::isdigit(static_cast<unsigned char>(name[0])) != 0) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

script::LuaHost& Loader::CheckHost() {
  if (lua_ == nullptr) {
    script::HostOptions o;
    if (def_ != nullptr && !def_->script_file.empty()) {
      o.script_file = def_->script_file;
      o.script_text = def_->script_text;
    }
    o.base_dir = std::filesystem::path(file_).parent_path().string();
    o.files = options_.files;
    auto h = script::LuaHost::Make(o);
    if (!h.ok()) Fail(SourcePos{1, 1}, "script", h.error().message);
    lua_ = std::move(h).value();
  }
  return *lua_;
}

void Loader::LoadScript(const Node& n, TestDefinition& def) {
  std::string file = String(n, "script");
  if (options_.confine_files && !IsConfinedPath(file)) {
    Fail(n, "script",
         fmt::format("`{}`: a script here is one uploaded with the test, named by a relative path without `..`", file));
  }
  std::filesystem::path base = std::filesystem::path(file_).parent_path();
  def.script_file = file;
  def.script_path = std::filesystem::path(file).is_absolute() ? file : (base / file).string();
  if (options_.files != nullptr) {
    auto it = options_.files->find(file);
    if (it == options_.files->end())
      Fail(n, "script", fmt::format("`{}` was not uploaded with the test (files)", file));
    def.script_text = it->second;
  } else {
    std::ifstream in(def.script_path, std::ios::binary);
    std::error_code ec;
    if (!in || !std::filesystem::is_regular_file(def.script_path, ec))
      Fail(n, "script", fmt::format("cannot read {}", def.script_path));
    std::ostringstream ss;
    ss << in.rdbuf();
    def.script_text = ss.str();
    if (def.script_text.size() > (size_t{16} << 20)) Fail(n, "script", "the script is larger than 16 MiB");
  }
  def_ = &def;
  try {
    CheckHost();
  } catch (const LoadError& e) {
    // The script's own file:line:col, after the test's place that names it.
    Fail(n, "script", e.message);
  }
}

void Loader::LoadMetrics(const Node& n, TestDefinition& def) {
  RequireMap(n, "metrics");
  for (const auto& kv : n) {
    std::string name = kv.first.Scalar();
    std::string path = Join("metrics", name);
    if (!ValidMetricName(name)) {
      Fail(kv.first, path,
           fmt::format("`{}`: a metric's name is letters, digits and _, not starting with a digit", name));
    }
    if (FindMetric(name) != nullptr || name.starts_with(kMonitorGaugePrefix)) {
      Fail(kv.first, path, fmt::format("`{}` is one of loadcell's own metrics: name yours differently", name));
    }
    std::string kind = String(kv.second, path);
    static const std::vector<std::pair<std::string, MetricType>> kKinds = {{"counter", MetricType::kCounter},
                                                                           {"gauge", MetricType::kGauge},
                                                                           {"rate", MetricType::kRate},
                                                                           {"trend", MetricType::kTrend}};
    auto it = std::find_if(kKinds.begin(), kKinds.end(), [&](const auto& k) { return k.first == kind; });
    if (it == kKinds.end()) {
      Fail(kv.second, path, fmt::format("unknown metric type `{}` (counter, gauge, rate, trend)", kind));
    }
    def.metrics[name] = it->second;
  }
}

void Loader::CheckLua(const Node& n, const std::string& path, const Template::ScriptPart& part) {
  // Refused by the templates' grammar too: its message, which knows that grammar.
  auto native = [&] {
    if (part.native_error.empty()) return;
    size_t tab = part.native_error.find('\t');
    size_t at = std::stoul(part.native_error.substr(0, tab));
    Fail(At(n, at), path, fmt::format("template: {}", part.native_error.substr(tab + 1)));
  };
  script::LuaHost& host = CheckHost();
  size_t col = 0;
  Status st = host.CheckSyntax(part.source, &col);
  if (!st.ok()) {
    native();
    Fail(At(n, part.offset + col), path, fmt::format("Lua expression: {}", st.error().message));
  }
  for (const auto& [name, at] : script::FreeNames(part.source)) {
    if (name == "iteration_in_test") uses_iteration_in_test_ = true;
    const auto& vu = VuNames();
    if (defined_.count(name) != 0 || std::find(vu.begin(), vu.end(), name) != vu.end() || host.HasGlobal(name))
      continue;
    native();
    if (name == "io" || name == "os" || name == "debug" || name == "package" || name == "dofile" ||
        name == "loadfile") {
      Fail(At(n, part.offset + at), path,
           fmt::format("`{}` is not available to scripts (the sandbox has no io, os, debug, package, dofile or "
                       "loadfile; files are read with `data:`, modules with require)",
                       name));
    }
    std::vector<std::string> known(defined_.begin(), defined_.end());
    known.insert(known.end(), vu.begin(), vu.end());
    std::string s = Suggest(name, known);
    Fail(At(n, part.offset + at), path,
         fmt::format("Lua expression names unknown `{}` (not captured or set in this scenario, not one of vu, "
                     "iteration, iteration_in_test, scenario, vars, env, data, status, headers, body, json, and "
                     "not a function of the test's script or the helpers){}",
                     name, s.empty() ? "" : fmt::format("; did you mean `{}`?", s)));
  }
  uses_lua_ = true;
}

Template Loader::LuaExpression(const Node& n, const std::string& path) {
  std::string text = String(n, path);
  if (text.find_first_not_of(" \t\n") == std::string::npos) Fail(n, path, "an empty expression");
  Template t = Template::Script(text);
  for (const Template::ScriptPart& part : t.ScriptParts()) CheckLua(n, path, part);
  return t;
}

IfStep Loader::If(const Node& n, const std::string& path) {
  RequireMap(n, path);
  CheckKeys(n, path, {"cond", "then", "else"});
  if (!n["cond"]) Fail(n, path, "missing `cond` (a Lua expression)");
  if (!n["then"]) Fail(n, path, "missing `then` (the steps when `cond` holds)");
  IfStep s;
  s.cond = LuaExpression(n["cond"], Join(path, "cond"));
  s.then_steps = StepList(n["then"], Join(path, "then"));
  if (n["else"]) s.else_steps = StepList(n["else"], Join(path, "else"));
  return s;
}

WhileStep Loader::While(const Node& n, const std::string& path) {
  RequireMap(n, path);
  CheckKeys(n, path, {"cond", "steps", "max_iterations", "timeout", "name"});
  if (!n["cond"]) Fail(n, path, "missing `cond` (a Lua expression)");
  if (!n["steps"]) Fail(n, path, "missing `steps`");
  WhileStep w;
  w.cond = LuaExpression(n["cond"], Join(path, "cond"));
  w.name = n["name"] ? String(n["name"], Join(path, "name")) : String(n["cond"], Join(path, "cond"));
  w.steps = StepList(n["steps"], Join(path, "steps"));
  if (w.steps.empty()) Fail(n["steps"], Join(path, "steps"), "a while loop needs at least one step");
  if (n["max_iterations"]) w.max_iterations = Int(n["max_iterations"], Join(path, "max_iterations"), 1);
  if (n["timeout"]) w.timeout = Duration(n["timeout"], Join(path, "timeout"), false);
  return w;
}

RecordStep Loader::Record(const Node& n, const std::string& path) {
  RequireMap(n, path);
  CheckKeys(n, path, {"metric", "value", "tags"});
  if (!n["metric"]) Fail(n, path, "missing `metric` (one of the test's `metrics`)");
  if (!n["value"]) Fail(n, path, "missing `value` (a Lua expression)");
  RecordStep r;
  r.metric = String(n["metric"], Join(path, "metric"));
  auto it = def_->metrics.find(r.metric);
  if (it == def_->metrics.end()) {
    std::vector<std::string> names;
    for (const auto& [name, _] : def_->metrics) names.push_back(name);
    std::string s = Suggest(r.metric, names);
    Fail(n["metric"], Join(path, "metric"),
         def_->metrics.empty() ? fmt::format("`{}` is not declared: a test's own metrics are declared under `metrics:` "
                                             "(name: counter|gauge|rate|trend)",
                                             r.metric)
                               : fmt::format("`{}` is not one of the test's `metrics`{}", r.metric,
                                             s.empty() ? "" : fmt::format(" (did you mean `{}`?)", s)));
  }
  r.type = it->second;
  r.value = LuaExpression(n["value"], Join(path, "value"));
  if (n["tags"]) {
    r.tags = Pairs(n["tags"], Join(path, "tags"));
    for (const auto& [k, _] : r.tags) {
      if (k == "scenario" || k == "group")
        Fail(n["tags"], Join(Join(path, "tags"), k), fmt::format("`{}` is set by loadcell", k));
    }
  }
  return r;
}

}  // namespace loadcell::loading
