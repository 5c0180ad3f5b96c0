#include "monitor/prom_text.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace loadcell {
namespace {

bool NameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_' || c == ':'; }
bool NameChar(char c) { return NameStart(c) || std::isdigit(static_cast<unsigned char>(c)) != 0; }

// One line's reader: the position moves forward; errors name the line.
class LineReader {
 public:
  LineReader(std::string_view line, size_t number) : s_(line), line_(number) {}

  Error Bad(const std::string& what) const { return Error::InvalidArgument(fmt::format("line {}: {}", line_, what)); }
  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  bool AtEnd() const { return i_ >= s_.size(); }
  bool Eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  std::string_view Name() {
    size_t start = i_;
    if (i_ < s_.size() && NameStart(s_[i_])) {
      ++i_;
      while (i_ < s_.size() && NameChar(s_[i_])) ++i_;
    }
    return s_.substr(start, i_ - start);
  }
  // A label value: "..." with \\, \" and \n escapes.
  Result<std::string> Quoted() {
    if (!Eat('"')) return Bad("a label value must be in double quotes");
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c == '\\' && i_ < s_.size()) {
        char e = s_[i_++];
        out += e == 'n' ? '\n' : e;
      } else {
        out += c;
      }
    }
    if (!Eat('"')) return Bad("a label value is not closed");
    return out;
  }
  std::string_view Rest() {
    std::string_view r = s_.substr(i_);
    i_ = s_.size();
    return r;
  }
  std::string_view Word() {
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] != ' ' && s_[i_] != '\t') ++i_;
    return s_.substr(start, i_ - start);
  }

 private:
  std::string_view s_;
  size_t line_;
  size_t i_ = 0;
};

Result<double> Number(std::string_view w) {
  if (w == "+Inf" || w == "Inf") return HUGE_VAL;
  if (w == "-Inf") return -HUGE_VAL;
  if (w == "NaN") return std::nan("");
  std::string text(w);
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) return Error::InvalidArgument("not a number");
  return v;
}

PromType TypeNamed(std::string_view t) {
  if (t == "counter") return PromType::kCounter;
  if (t == "gauge") return PromType::kGauge;
  if (t == "histogram" || t == "gaugehistogram") return PromType::kHistogram;
  if (t == "summary") return PromType::kSummary;
  return PromType::kUntyped;
}

}  // namespace

Result<PromExposition> ParsePromText(std::string_view text, size_t max_samples) {
  PromExposition out;
  size_t number = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    LineReader r(line, number);
    r.SkipSpace();
    if (r.AtEnd()) continue;
    if (r.Eat('#')) {
      r.SkipSpace();
      if (r.Word() == "TYPE") {
        r.SkipSpace();
        std::string family(r.Name());
        r.SkipSpace();
        if (family.empty()) return r.Bad("# TYPE without a metric name");
        out.types[family] = TypeNamed(r.Word());
      }
      continue;  // HELP, UNIT, EOF and comments
    }
    PromSample s;
    s.name = std::string(r.Name());
    if (s.name.empty()) return r.Bad("expected a metric name");
    if (r.Eat('{')) {
      for (;;) {
        r.SkipSpace();
        if (r.Eat('}')) break;
        std::string key(r.Name());
        if (key.empty()) return r.Bad("expected a label name");
        r.SkipSpace();
        if (!r.Eat('=')) return r.Bad(fmt::format("expected `=` after label {}", key));
        r.SkipSpace();
        auto value = r.Quoted();
        if (!value.ok()) return value.error();
        s.labels.emplace_back(std::move(key), std::move(value).value());
        r.SkipSpace();
        if (r.Eat(',')) continue;
        if (r.Eat('}')) break;
        return r.Bad("expected `,` or `}` in the labels");
      }
    }
    r.SkipSpace();
    auto v = Number(r.Word());
    if (!v.ok()) return r.Bad(fmt::format("the value of {} is not a number", s.name));
    s.value = *v;
    // A timestamp may follow (and OpenMetrics exemplars after `#`): not used.
    if (out.samples.size() >= max_samples) {
      return Error::InvalidArgument(fmt::format("more than {} samples", max_samples));
    }
    out.samples.push_back(std::move(s));
  }
  return out;
}

std::pair<std::string, PromType> FamilyOf(const PromExposition& e, const std::string& name) {
  if (auto it = e.types.find(name); it != e.types.end()) return {name, it->second};
  for (std::string_view suffix : {"_bucket", "_sum", "_count", "_total", "_created"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      std::string family = name.substr(0, name.size() - suffix.size());
      if (auto it = e.types.find(family); it != e.types.end()) return {family, it->second};
    }
  }
  return {name, PromType::kUntyped};
}

}  // namespace loadcell
