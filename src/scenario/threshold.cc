#include "scenario/threshold.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <utility>

#include <fmt/format.h>

namespace loadcell {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

bool ValidMetricName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') return false;
  }
  return true;
}

}  // namespace

std::string MetricSelector::ToString() const {
  if (tags.empty()) return metric;
  std::string s = metric + "{";
  bool first = true;
  for (const auto& [k, v] : tags) {
    s += fmt::format("{}{}:{}", first ? "" : ",", k, v);
    first = false;
  }
  return s + "}";
}

Result<MetricSelector> ParseMetricSelector(std::string_view key) {
  MetricSelector m;
  size_t brace = key.find('{');
  m.metric = std::string(Trim(key.substr(0, brace)));
  if (!ValidMetricName(m.metric)) {
    return Error::InvalidArgument(fmt::format("invalid metric name \"{}\"", m.metric));
  }
  if (brace == std::string_view::npos) return m;
  if (key.back() != '}') return Error::InvalidArgument("tag filter must end with '}'");
  std::string_view inner = key.substr(brace + 1, key.size() - brace - 2);
  while (!inner.empty()) {
    size_t comma = inner.find(',');
    std::string_view pair = inner.substr(0, comma);
    size_t colon = pair.find(':');
    if (colon == std::string_view::npos) {
      return Error::InvalidArgument(fmt::format("tag filter \"{}\" must be name:value", Trim(pair)));
    }
    std::string name(Trim(pair.substr(0, colon)));
    std::string value(Trim(pair.substr(colon + 1)));
    if (name.empty()) return Error::InvalidArgument("empty tag name in filter");
    m.tags[name] = value;
    if (comma == std::string_view::npos) break;
    inner.remove_prefix(comma + 1);
  }
  return m;
}

std::string FormatInstant(Nanos d) {
  if (d % kSecond != 0) return fmt::format("{:g}s", static_cast<double>(d) / 1e9);
  const int64_t s = d / kSecond;
  if (s >= 3600 && s % 3600 == 0) return fmt::format("{}h", s / 3600);
  if (s >= 60 && s % 60 == 0) return fmt::format("{}m", s / 60);
  if (s > 60) return fmt::format("{}m{}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kCritical: return "critical";
    case Severity::kWarning: return "warning";
    case Severity::kInfo: return "info";
  }
  return "critical";
}

bool ParseSeverity(std::string_view name, Severity* out) {
  for (Severity s : {Severity::kCritical, Severity::kWarning, Severity::kInfo}) {
    if (SeverityName(s) == name) {
      *out = s;
      return true;
    }
  }
  return false;
}

Result<ThresholdExpr> ParseThresholdExpr(std::string_view text) {
  ThresholdExpr t;
  t.source = std::string(text);
  std::string_view s = Trim(text);
  auto bad = [&](const std::string& why) {
    return Error::InvalidArgument(
        fmt::format("invalid threshold \"{}\": {} (expected like p(95)<500, avg<200, rate<0.01, count>10, "
                    "growth<5%/h)",
                    text, why));
  };
  size_t op_at = s.find_first_of("<>=");
  if (op_at == std::string_view::npos) return bad("no comparison operator");
  std::string_view agg = Trim(s.substr(0, op_at));
  std::string_view rest = s.substr(op_at);
  if (agg.starts_with("p(") && agg.ends_with(")")) {
    t.aggregate = ThresholdExpr::Aggregate::kPercentile;
    std::string num(agg.substr(2, agg.size() - 3));
    char* end = nullptr;
    t.percentile = std::strtod(num.c_str(), &end);
    if (num.empty() || end != num.c_str() + num.size() || t.percentile < 0 || t.percentile > 100) {
      return bad("percentile must be between 0 and 100");
    }
  } else {
    using A = ThresholdExpr::Aggregate;
    static constexpr std::pair<std::string_view, A> kAggregates[] = {
        {"avg", A::kAvg},   {"med", A::kMed},     {"min", A::kMin},     {"max", A::kMax},
        {"rate", A::kRate}, {"count", A::kCount}, {"value", A::kValue}, {"growth", A::kGrowth}};
    auto named =
        std::find_if(std::begin(kAggregates), std::end(kAggregates), [&agg](const auto& a) { return a.first == agg; });
    if (named == std::end(kAggregates)) return bad(fmt::format("unknown aggregation \"{}\"", agg));
    t.aggregate = named->second;
  }

  // Two-character operators first: "<=" is not "<" followed by "=5".
  using O = ThresholdExpr::Op;
  static constexpr std::pair<std::string_view, O> kOperators[] = {
      {"<=", O::kLe}, {">=", O::kGe}, {"==", O::kEq}, {"<", O::kLt}, {">", O::kGt}};
  auto op = std::find_if(std::begin(kOperators), std::end(kOperators),
                         [&rest](const auto& o) { return rest.starts_with(o.first); });
  if (op == std::end(kOperators)) return bad("unknown operator");
  t.op = op->second;
  rest.remove_prefix(op->first.size());
  std::string num(Trim(rest));
  if (t.aggregate == ThresholdExpr::Aggregate::kGrowth) {
    using G = ThresholdExpr::GrowthUnit;
    static constexpr std::pair<std::string_view, G> kUnits[] = {
        {"MB/h", G::kMibPerHour}, {"%/day", G::kPercentPerDay}, {"%/h", G::kPercentPerHour}, {"/h", G::kPerHour}};
    auto unit = std::find_if(std::begin(kUnits), std::end(kUnits),
                             [&num](const auto& u) { return std::string_view(num).ends_with(u.first); });
    if (unit == std::end(kUnits)) return bad("growth needs a unit: MB/h, %/h, %/day or /h");
    t.growth_unit = unit->second;
    num = std::string(Trim(std::string_view(num).substr(0, num.size() - unit->first.size())));
  }
  char* end = nullptr;
  t.bound = std::strtod(num.c_str(), &end);
  if (num.empty() || end != num.c_str() + num.size() || !std::isfinite(t.bound))
    return bad("the bound must be a number");
  return t;
}

bool ThresholdExpr::Holds(double v) const {
  switch (op) {
    case Op::kLt: return v < bound;
    case Op::kLe: return v <= bound;
    case Op::kGt: return v > bound;
    case Op::kGe: return v >= bound;
    case Op::kEq: return v == bound;
  }
  return false;
}

}  // namespace loadcell
