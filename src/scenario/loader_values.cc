// Scalars of a test file: strings (with ${ENV}), numbers, durations, templates, keys.
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

void Loader::RequireMap(const Node& n, const std::string& path) {
  if (!n.IsMap()) Fail(n, path, "expected a mapping");
}

void Loader::RequireSeq(const Node& n, const std::string& path) {
  if (!n.IsSequence()) Fail(n, path, "expected a list");
}

std::string Loader::ExpandEnv(const Node& n, const std::string& path, const std::string& text) {
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

std::optional<std::string> Loader::EnvValue(const std::string& name) {
  if (auto it = options_.env.find(name); it != options_.env.end()) return it->second;
  if (options_.use_process_env) {
    if (const char* v = std::getenv(name.c_str())) return std::string(v);
  }
  return std::nullopt;
}

std::string Loader::String(const Node& n, const std::string& path) {
  if (!n.IsScalar()) Fail(n, path, "expected a string");
  return ExpandEnv(n, path, n.Scalar());
}

int64_t Loader::Int(const Node& n, const std::string& path, int64_t min, int64_t max) {
  std::string s = String(n, path);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || end != s.c_str() + s.size()) Fail(n, path, fmt::format("expected an integer, got \"{}\"", s));
  if (errno == ERANGE || v > max) Fail(n, path, fmt::format("must be at most {}, got {}", max, s));
  if (v < min) Fail(n, path, fmt::format("must be at least {}, got {}", min, v));
  return v;
}

double Loader::Number(const Node& n, const std::string& path, double min, bool exclusive, double max) {
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

double Loader::Rate(const Node& n, const std::string& path, bool allow_zero) {
  double v = Number(n, path, 0, !allow_zero, 1e9);
  if (v > 0 && v < 1e-8)
    Fail(n, path, fmt::format("must be 0 or at least 1e-8 (one arrival per 10^8 time units), got {}", n.Scalar()));
  return v;
}

bool Loader::Bool(const Node& n, const std::string& path) {
  std::string s = String(n, path);
  if (s == "true" || s == "yes") return true;
  if (s == "false" || s == "no") return false;
  Fail(n, path, fmt::format("expected true or false, got \"{}\"", s));
}

Nanos Loader::Duration(const Node& n, const std::string& path, bool allow_zero) {
  std::string s = String(n, path);
  auto d = ParseDuration(s);
  if (!d.ok()) Fail(n, path, d.error().message);
  if (!allow_zero && *d == 0) Fail(n, path, "must be greater than zero");
  if (*d > kMaxDuration) Fail(n, path, fmt::format("invalid duration \"{}\": at most 744h (31 days)", s));
  return *d;
}

void Loader::CheckKeys(const Node& map, const std::string& path, const std::vector<std::string>& allowed,
                       const std::string& context) {
  for (const auto& kv : map) {
    std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string suggestion = Suggest(key, allowed);
    std::string msg = fmt::format("unknown key `{}`{}", key, context);
    if (!suggestion.empty()) msg += fmt::format(" (did you mean `{}`?)", suggestion);
    Fail(kv.first, Join(path, key), msg);
  }
}

Template Loader::Compile(const Node& n, const std::string& path) {
  std::string text = String(n, path);
  return CompileText(n, path, text);
}

Template Loader::CompileText(const Node& n, const std::string& path, const std::string& text) {
  size_t offset = 0;
  auto t = Template::Compile(text, &offset, true);
  if (!t.ok()) Fail(At(n, offset), path, fmt::format("template: {}", t.error().message));
  for (const std::string& name : t->Names()) CheckName(n, path, name);
  for (const Template::ScriptPart& part : t->ScriptParts()) CheckLua(n, path, part);
  return std::move(t).value();
}

SourcePos Loader::At(const Node& n, size_t offset) {
  SourcePos pos = PosOf(n);
  // Point at the character for single-line scalars (quoted ones start one column later).
  bool quoted = n.IsScalar() && n.Tag() == "!";
  if (n.IsScalar() && n.Scalar().find('\n') == std::string::npos)
    pos.col += static_cast<int>(offset) + (quoted ? 1 : 0);
  return pos;
}

std::set<std::string> secret_vars_;  // "vars.api_key"

void Loader::CheckName(const Node& n, const std::string& path, const std::string& name) {
  std::string root = name.substr(0, name.find('.'));
  std::string rest = name.find('.') == std::string::npos ? "" : name.substr(name.find('.') + 1);
  if (name == "iteration_in_test") uses_iteration_in_test_ = true;
  if (name == "vu" || name == "iteration" || name == "iteration_in_test" || name == "scenario") return;
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
  if (root == "setup") {
    if (setup_defined_.count(rest) == 0) {
      std::vector<std::string> known(setup_defined_.begin(), setup_defined_.end());
      std::string s = Suggest(rest, known);
      Fail(n, path,
           fmt::format("template names `{}`, but the test's `setup` does not capture or set `{}`{}", name, rest,
                       s.empty() ? "" : fmt::format(" (did you mean `setup.{}`?)", s)));
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
  for (const char* k : {"vu", "iteration", "iteration_in_test", "scenario"}) known.emplace_back(k);
  std::string s = Suggest(name, known);
  Fail(n, path,
       fmt::format("template names unknown variable `{}` (not captured or set in this scenario, and not "
                   "vars.*, env.*, data.*, vu, iteration, iteration_in_test or scenario){}",
                   name, s.empty() ? "" : fmt::format("; did you mean `{}`?", s)));
}

TemplatePairs Loader::Pairs(const Node& n, const std::string& path) {
  RequireMap(n, path);
  TemplatePairs out;
  for (const auto& kv : n) {
    std::string key = kv.first.Scalar();
    out.emplace_back(key, Compile(kv.second, Join(path, key)));
  }
  return out;
}

std::string Loader::Base64Decode(const Node& n, const std::string& path) {
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

JsonPath Loader::Path(const Node& n, const std::string& path, const std::string& text) {
  size_t offset = 0;
  auto p = JsonPath::Parse(text, &offset);
  if (!p.ok()) {
    SourcePos pos = PosOf(n);
    pos.col += static_cast<int>(offset) + (n.Tag() == "!" ? 1 : 0);
    Fail(pos, path, p.error().message);
  }
  return std::move(p).value();
}

}  // namespace loadcell::loading
