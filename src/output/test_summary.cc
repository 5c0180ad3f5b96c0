#include "output/test_summary.h"

#include <set>

#include <fmt/format.h>

#include "common/units.h"

namespace loadcell {
namespace {

using nlohmann::json;

json MetricJson(const SeriesAggregate& a, double secs) {
  json j;
  switch (a.kind) {
    case MetricKind::kCounter:
      j = {{"count", a.count}, {"rate", secs > 0 ? static_cast<double>(a.count) / secs : 0.0}};
      break;
    case MetricKind::kRate:
      j = {{"value", a.count ? static_cast<double>(a.passes) / static_cast<double>(a.count) : 0.0},
           {"passes", a.passes},
           {"fails", a.count - a.passes}};
      break;
    case MetricKind::kGauge:
      j = {{"value", a.value}, {"min", a.min}, {"max", a.max}};
      break;
    case MetricKind::kTrend: {
      const HdrHistogram* h = a.trend.get();
      auto ms = [](double us) { return us / 1000.0; };
      if (h == nullptr || h->empty()) {
        j = {{"avg", 0}, {"min", 0}, {"med", 0}, {"max", 0}};
        break;
      }
      j["avg"] = ms(h->mean());
      j["min"] = ms(static_cast<double>(h->min()));
      j["med"] = ms(static_cast<double>(h->ValueAtPercentile(50)));
      j["max"] = ms(static_cast<double>(h->max()));
      for (double p : {50.0, 90.0, 95.0, 99.0, 99.9}) j[fmt::format("p({})", p)] = ms(static_cast<double>(h->ValueAtPercentile(p)));
      break;
    }
  }
  return j;
}

std::string TrendLine(const SeriesAggregate& a) {
  if (!a.trend || a.trend->empty()) return "no samples";
  const HdrHistogram& h = *a.trend;
  auto d = [](double us) { return FormatDuration(static_cast<Nanos>(us * 1000)); };
  return fmt::format("avg={} min={} med={} max={} p(90)={} p(95)={} p(99)={}", d(h.mean()),
                     d(static_cast<double>(h.min())), d(static_cast<double>(h.ValueAtPercentile(50))),
                     d(static_cast<double>(h.max())), d(static_cast<double>(h.ValueAtPercentile(90))),
                     d(static_cast<double>(h.ValueAtPercentile(95))), d(static_cast<double>(h.ValueAtPercentile(99))));
}

// One line of a breakdown: requests, rate, p95 and error rate of the requests with `tags`.
std::string BreakdownLine(const MetricStore& s, const std::string& label, const Tags& tags, double secs) {
  SeriesAggregate reqs = s.Select("http_reqs", tags);
  SeriesAggregate dur = s.Select("http_req_duration", tags);
  SeriesAggregate failed = s.Select("http_req_failed", tags);
  return fmt::format("    {:<24} {:>8} reqs  {:>9.2f}/s  p95 {:>9}  failed {:.2f}%\n", label, reqs.count,
                     secs > 0 ? static_cast<double>(reqs.count) / secs : 0,
                     dur.trend && !dur.trend->empty() ? FormatDuration(dur.trend->ValueAtPercentile(95) * kMicro)
                                                      : std::string("-"),
                     failed.count ? 100.0 * static_cast<double>(failed.passes) / static_cast<double>(failed.count) : 0.0);
}

std::string Observed(const ThresholdOutcome& o) {
  if (o.no_data) return "no data";
  return fmt::format("{:g}", o.observed);
}

}  // namespace

std::string FormatTestSummary(const TestDefinition& def, const TestResult& r,
                              const std::vector<ThresholdOutcome>& thresholds) {
  std::string out;
  const MetricStore& s = r.store;
  out += fmt::format("loadcell {} — {}{}\n", LOADCELL_VERSION, def.name.empty() ? def.file : def.name,
                     r.interrupted ? " (interrupted)" : "");
  for (const ScenarioDef& sc : def.scenarios) {
    SeriesAggregate it = s.Select("iterations", {{"scenario", sc.name}});
    SeriesAggregate dropped = s.Select("dropped_iterations", {{"scenario", sc.name}});
    out += fmt::format("  scenario {} ({}): {} iterations{}\n", sc.name, ExecutorName(sc.executor), it.count,
                       dropped.count ? fmt::format(", {} dropped", dropped.count) : "");
  }
  // Checks, grouped by name.
  if (s.Has("checks")) {
    out += "\n  checks\n";
    for (const std::string& label : s.TagValues("checks", "check")) {
      SeriesAggregate c = s.Select("checks", {{"check", label}});
      bool all = c.passes == c.count;
      out += fmt::format("    {} {}: {} of {} passed ({:.2f}%)\n", all ? "✓" : "✗", label, c.passes, c.count,
                         c.count ? 100.0 * static_cast<double>(c.passes) / static_cast<double>(c.count) : 0.0);
    }
  }
  if (!thresholds.empty()) {
    out += "\n  thresholds\n";
    for (const ThresholdOutcome& t : thresholds) {
      out += fmt::format("    {} {}: {} (observed {})\n", t.ok ? "✓" : "✗", t.key, t.expr, Observed(t));
    }
  }
  out += "\n  metrics\n";
  double secs = r.duration_s;
  for (const std::string& m : s.Metrics()) {
    SeriesAggregate a = s.Select(m, {});
    std::string line;
    switch (a.kind) {
      case MetricKind::kCounter:
        line = m.starts_with("data_")
                   ? fmt::format("{} {}/s", FormatBytes(static_cast<double>(a.count)),
                                 FormatBytes(secs > 0 ? static_cast<double>(a.count) / secs : 0))
                   : fmt::format("{} {:.2f}/s", a.count, secs > 0 ? static_cast<double>(a.count) / secs : 0);
        break;
      case MetricKind::kRate:
        line = fmt::format("{:.2f}% ({} of {})", a.count ? 100.0 * static_cast<double>(a.passes) / static_cast<double>(a.count) : 0.0,
                           a.passes, a.count);
        break;
      case MetricKind::kTrend: line = TrendLine(a); break;
      case MetricKind::kGauge: line = fmt::format("{:g} min={:g} max={:g}", a.value, a.min, a.max); break;
    }
    out += fmt::format("    {:.<28} {}\n", m + " ", line);
  }
  out += fmt::format("    {:.<28} {}\n", "vus_max ", r.vus_max);
  // Per request name (and per value of each user tag): rate, p95, error rate.
  std::vector<std::string> names = s.TagValues("http_reqs", "name");
  if (!names.empty()) {
    out += "\n  requests by name\n";
    for (const std::string& n : names) out += BreakdownLine(s, n, {{"name", n}}, secs);
  }
  std::set<std::string> user_tags;
  for (const ScenarioDef& sc : def.scenarios) {
    for (const auto& [k, _] : sc.tags) user_tags.insert(k);
  }
  for (const std::string& tag : user_tags) {
    out += fmt::format("\n  requests by {}\n", tag);
    for (const std::string& v : s.TagValues("http_reqs", tag)) out += BreakdownLine(s, v, {{tag, v}}, secs);
  }
  if (!r.aborted_by.empty()) out += fmt::format("\n  ABORTED by threshold {}\n", r.aborted_by);
  for (const std::string& m : r.messages) out += fmt::format("\n  NOTE: {}\n", m);
  if (r.interrupted_iterations > 0) {
    out += fmt::format("\n  NOTE: {} iterations were interrupted at the end of their graceful stop\n", r.interrupted_iterations);
  }
  return out;
}

json TestSummaryExport(const TestDefinition& def, const TestResult& r, const std::vector<ThresholdOutcome>& thresholds) {
  json metrics = json::object();
  for (const std::string& m : r.store.Metrics()) metrics[m] = MetricJson(r.store.Select(m, {}), r.duration_s);
  metrics["vus_max"] = {{"value", r.vus_max}, {"min", r.vus_max}, {"max", r.vus_max}};
  for (const ThresholdDef& t : def.thresholds) {
    std::string key = t.selector.tags.empty() ? t.selector.metric : t.key;
    if (!metrics.contains(key)) {
      SeriesAggregate a = r.store.Select(t.selector.metric, t.selector.tags);
      metrics[key] = MetricJson(a, r.duration_s);
    }
    json& th = metrics[key]["thresholds"];
    for (const ThresholdOutcome& o : thresholds) {
      if (o.key == t.key) th[o.expr] = {{"ok", o.ok}};
    }
  }
  return {{"metrics", metrics},
          {"state", {{"testRunDurationMs", r.duration_s * 1000}, {"interrupted", r.interrupted},
                     {"aborted_by", r.aborted_by}}}};
}

}  // namespace loadcell
