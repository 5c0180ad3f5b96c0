// Scenarios and their steps: request, think, pick, loop, group, set.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>

#include <openssl/evp.h>

#include "common/units.h"
#include "scenario/data_file.h"
#include "scenario/loader_parts.h"

namespace loadcell::loading {

ScenarioDef Loader::LoadScenario(const Node& n, const std::string& path, const std::string& name) {
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
  std::vector<std::string> common = {"executor", "start_time", "graceful_stop", "tags", "env", "flow", "vu_init"};
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
  if (Node init = n["vu_init"]) CollectDefinedNames(init);
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
      const Template& t = s.tags[kv.first.Scalar()];
      const std::vector<std::string> names = t.Names();
      auto per_iteration = [](const std::string& name) {
        return name == "iteration" || name == "iteration_in_test" || name.starts_with("data.") ||
               (name != "vu" && name != "scenario" && !name.starts_with("vars.") && !name.starts_with("env."));
      };
      if (t.CallsFunctions() || std::any_of(names.begin(), names.end(), per_iteration)) s.tags_per_iteration = true;
    }
  }
  if (Node init = n["vu_init"]) {
    Step g;
    g.pos = PosOf(init);
    GroupStep group;
    group.name = "vu_init";
    group.steps = StepList(init, p("vu_init"));
    if (group.steps.empty()) Fail(init, p("vu_init"), "vu_init needs at least one step");
    g.body = std::move(group);
    s.init.push_back(std::move(g));
  }
  s.flow = StepList(flow, p("flow"));
  return s;
}

std::vector<Stage> Loader::Stages(const Node& n, const std::string& path, bool rate) {
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

void Loader::CollectDefinedNames(const Node& n) {
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

Steps Loader::StepList(const Node& n, const std::string& path) {
  RequireSeq(n, path);
  Steps out;
  for (size_t i = 0; i < n.size(); ++i) out.push_back(OneStep(n[i], Index(path, i), {}));
  return out;
}

Step Loader::OneStep(const Node& n, const std::string& path, const std::vector<std::string>& extra_keys) {
  static const std::vector<std::string> kKinds = {"request", "think", "pick", "loop",  "group", "set",
                                                  "ws",      "sql",   "if",   "while", "record"};
  RequireMap(n, path);
  std::vector<std::string> allowed = kKinds;
  allowed.insert(allowed.end(), extra_keys.begin(), extra_keys.end());
  CheckKeys(n, path, allowed, " (a step is one of request, think, pick, loop, group, set, ws, sql, if, while, record)");
  std::string kind;
  for (const auto& kv : n) {
    std::string key = kv.first.Scalar();
    if (std::find(kKinds.begin(), kKinds.end(), key) == kKinds.end()) continue;
    if (!kind.empty())
      Fail(kv.first, Join(path, key), fmt::format("a step has one kind, found `{}` and `{}`", kind, key));
    kind = key;
  }
  if (kind.empty())
    Fail(n, path, "empty step: expected one of request, think, pick, loop, group, set, ws, sql, if, while, record");
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
  else if (kind == "if")
    step.body = If(body, bp);
  else if (kind == "while")
    step.body = While(body, bp);
  else if (kind == "record")
    step.body = Record(body, bp);
  else
    step.body = Sql(body, bp);
  return step;
}

RequestStep Loader::Request(const Node& n, const std::string& path) {
  RequireMap(n, path);
  CheckKeys(n, path,
            {"name", "method", "url", "headers", "query", "body", "json", "form", "timeout", "tags", "capture", "check",
             "tag_from"});
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
  if (Node t = n["tag_from"]) {
    r.tag_from = TagFrom(t, Join(path, "tag_from"));
  } else if (default_tag_from_.has_value()) {
    r.tag_from = default_tag_from_;
  }
  if (Node c = n["check"]) r.checks = Checks(c, Join(path, "check"));
  return r;
}

bool Loader::IsPlainJsonScalar(const Node& n) {
  if (!n.IsScalar() || n.Tag() == "!") return false;
  auto j = nlohmann::json::parse(n.Scalar(), nullptr, false);
  return !j.is_discarded() && (j.is_number() || j.is_boolean());
}

nlohmann::ordered_json Loader::ToJson(const Node& n, const std::string& path, std::vector<JsonBody::Slot>* slots) {
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

std::vector<Capture> Loader::Captures(const Node& n, const std::string& path) {
  std::vector<Capture> out;
  EachMap(n, path, {"json", "header", "regex", "as"}, [&](const Node& c, const std::string& cp) {
    if (!c["as"]) Fail(c, cp, "missing `as`: the variable the capture sets");
    out.push_back(CaptureOf(c, cp, String(c["as"], Join(cp, "as"))));
  });
  return out;
}

Capture Loader::TagFrom(const Node& n, const std::string& path) {
  RequireMap(n, path);
  CheckKeys(n, path, {"json", "header", "regex", "as"});
  std::string as = n["as"] ? String(n["as"], Join(path, "as")) : "instance";
  static const std::set<std::string> kBuiltIn = {"scenario", "group", "name",    "method", "status",
                                                 "check",    "kind",  "capture", "db"};
  if (kBuiltIn.count(as) != 0) Fail(n["as"], Join(path, "as"), fmt::format("`{}` is a built-in tag", as));
  return CaptureOf(n, path, as);
}

Capture Loader::CaptureOf(const Node& c, const std::string& cp, const std::string& as) {
  {
    Capture cap;
    cap.as = as;
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
    if (kinds != 1) Fail(c, cp, "exactly one of `json`, `header` and `regex`: where the value comes from");
    return cap;
  }
}

std::vector<Check> Loader::Checks(const Node& n, const std::string& path) {
  std::vector<Check> out;
  EachMap(n, path, {"status", "body_contains", "json", "header", "max_duration", "name"},
          [&](const Node& c, const std::string& cp) {
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
              ck.label =
                  ck.equals ? fmt::format("{} == {}", ck.subject, *ck.equals) : fmt::format("{} exists", ck.subject);
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
          });
  return out;
}

ThinkStep Loader::Think(const Node& n, const std::string& path) {
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

PickStep Loader::Pick(const Node& n, const std::string& path) {
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

LoopStep Loader::Loop(const Node& n, const std::string& path) {
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

GroupStep Loader::Group(const Node& n, const std::string& path) {
  RequireMap(n, path);
  CheckKeys(n, path, {"name", "steps"});
  if (!n["name"]) Fail(n, path, "missing `name`");
  if (!n["steps"]) Fail(n, path, "missing `steps`");
  GroupStep g;
  g.name = String(n["name"], Join(path, "name"));
  g.steps = StepList(n["steps"], Join(path, "steps"));
  return g;
}

SetStep Loader::Set(const Node& n, const std::string& path) {
  SetStep s;
  s.values = Pairs(n, path);
  return s;
}

}  // namespace loadcell::loading
