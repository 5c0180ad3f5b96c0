#include "output/run_summary.h"

#include <set>

#include <fmt/format.h>

#include "common/units.h"
#include "metrics/catalog.h"
#include "scenario/threshold.h"

namespace loadcell {
namespace {

using nlohmann::json;

}  // namespace

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
    case MetricKind::kGauge: j = {{"value", a.value}, {"min", a.min}, {"max", a.max}}; break;
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
      for (double p : {50.0, 90.0, 95.0, 99.0, 99.9})
        j[fmt::format("p({})", p)] = ms(static_cast<double>(h->ValueAtPercentile(p)));
      break;
    }
  }
  return j;
}

namespace {

std::string TrendLine(const SeriesAggregate& a) {
  if (!a.trend || a.trend->empty()) return "no samples";
  const HdrHistogram& h = *a.trend;
  auto d = [](double us) { return FormatDuration(static_cast<Nanos>(us * 1000)); };
  return fmt::format("avg={} min={} med={} max={} p(90)={} p(95)={} p(99)={}", d(h.mean()),
                     d(static_cast<double>(h.min())), d(static_cast<double>(h.ValueAtPercentile(50))),
                     d(static_cast<double>(h.max())), d(static_cast<double>(h.ValueAtPercentile(90))),
                     d(static_cast<double>(h.ValueAtPercentile(95))), d(static_cast<double>(h.ValueAtPercentile(99))));
}

std::string BreakdownLine(const BreakdownRow& row) {
  return fmt::format("    {:<24} {:>8} reqs  {:>9.2f}/s  p95 {:>9}  failed {:.2f}%\n", row.value, row.reqs, row.rate,
                     row.has_latency ? FormatDuration(static_cast<Nanos>(row.latency.p95 * 1e6)) : std::string("-"),
                     100.0 * row.failed_rate);
}

std::string Observed(const ThresholdOutcome& o) {
  if (o.no_data) return "no data";
  return fmt::format("{:g}", o.observed);
}

}  // namespace

std::string FormatTestSummary(const RunResults& r) {
  std::string out;
  const MetricStore& s = r.store;
  out += fmt::format("loadcell {} — {}{}\n", r.meta.version, r.meta.test, r.meta.interrupted ? " (interrupted)" : "");
  if (!r.meta.complete) out += "  (incomplete: the run ended before its final record; per-second metrics only)\n";
  for (const ScenarioInfo& sc : r.meta.scenarios) {
    SeriesAggregate it = s.Select("iterations", {{"scenario", sc.name}});
    SeriesAggregate dropped = s.Select("dropped_iterations", {{"scenario", sc.name}});
    out += fmt::format("  scenario {} ({}): {} iterations{}\n", sc.name, sc.executor, it.count,
                       dropped.count ? fmt::format(", {} dropped", dropped.count) : "");
  }
  // Checks as k6 shows them: a tree by group ("::checkout::pay"), top level first.
  if (s.Has("checks")) {
    out += "\n  checks\n";
    for (const std::string& group : s.TagValues("checks", "group")) {
      int depth = 0;
      std::string label;
      for (size_t at = group.find("::"); at != std::string::npos; at = group.find("::", at + 2)) {
        size_t next = group.find("::", at + 2);
        label = group.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
        ++depth;
      }
      std::string indent(static_cast<size_t>(4 + 2 * depth), ' ');
      if (depth > 0) out += fmt::format("{}█ {}\n", std::string(static_cast<size_t>(2 + 2 * depth), ' '), label);
      for (const std::string& name : s.TagValues("checks", "check")) {
        SeriesAggregate c = s.Select("checks", {{"group", group}, {"check", name}});
        if (c.count == 0) continue;
        out += fmt::format("{}{} {}: {} of {} passed ({:.2f}%)\n", indent, c.passes == c.count ? "✓" : "✗", name,
                           c.passes, c.count, 100.0 * static_cast<double>(c.passes) / static_cast<double>(c.count));
      }
    }
  }
  if (!r.thresholds.empty()) {
    out += "\n  thresholds\n";
    for (const ThresholdOutcome& t : r.thresholds) {
      // ✗ fails the run; ! and i are warning and info thresholds crossed (reported only).
      const char* mark = t.ok                                ? "✓"
                         : t.severity == Severity::kCritical ? "✗"
                         : t.severity == Severity::kWarning  ? "!"
                                                             : "i";
      if (t.no_data && t.ok)
        out += fmt::format("    ? {}: {} (no data)\n", t.key, DescribeExpr(t));
      else
        out += fmt::format("    {} {}: {} (observed {})\n", mark, t.key, DescribeExpr(t), Observed(t));
    }
    for (const ThresholdOutcome& t : r.thresholds) {
      if (t.no_data) {
        out += fmt::format("  WARNING: threshold {}: {} had no data: no sample matched it, so it was not judged{}\n",
                           t.key, DescribeExpr(t),
                           t.ok ? " (--strict-thresholds makes that a failure)" : "; strict: failed");
      }
    }
  }
  out += "\n  metrics\n";
  double secs = r.meta.duration_s;
  for (const std::string& m : s.Metrics()) {
    SeriesAggregate a = s.Select(m, {});
    const MetricInfo* info = FindMetric(m);
    const bool bytes =
        info != nullptr && (info->unit == MetricUnit::kBytes || info->unit == MetricUnit::kBytesPerSecond);
    std::string line;
    switch (a.kind) {
      case MetricKind::kCounter:
        line = bytes ? fmt::format("{} {}/s", FormatBytes(static_cast<double>(a.count)),
                                   FormatBytes(secs > 0 ? static_cast<double>(a.count) / secs : 0))
                     : fmt::format("{} {:.2f}/s", a.count, secs > 0 ? static_cast<double>(a.count) / secs : 0);
        break;
      case MetricKind::kRate:
        line = fmt::format("{:.2f}% ({} of {})",
                           a.count ? 100.0 * static_cast<double>(a.passes) / static_cast<double>(a.count) : 0.0,
                           a.passes, a.count);
        break;
      case MetricKind::kTrend: line = TrendLine(a); break;
      case MetricKind::kGauge:
        if (bytes) {
          line = fmt::format("{} min={} max={}", FormatBytes(a.value), FormatBytes(a.min), FormatBytes(a.max));
        } else {
          line = fmt::format("{:.4g} min={:.4g} max={:.4g}", a.value, a.min, a.max);
        }
        break;
    }
    out += fmt::format("    {:.<28} {}\n", m + " ", line);
  }
  out += fmt::format("    {:.<28} {}\n", "vus_max ", r.meta.vus_max);
  // Per request name (and per value of each user tag): rate, p95, error rate.
  std::string last_tag;
  for (const BreakdownRow& row : Breakdowns(r)) {
    if (row.tag != last_tag) out += fmt::format("\n  requests by {}\n", row.tag);
    last_tag = row.tag;
    out += BreakdownLine(row);
  }
  if (r.usl.is_object()) {
    out += "\n  scalability (--usl)\n";
    out += fmt::format("    {:>6} {:>12} {:>12} {:>12} {:>10}\n", "VUs", "req/s", "iter/s", "iter ms", "Little N");
    for (const json& st : r.usl["steps"]) {
      out += fmt::format("    {:>6g} {:>12.1f} {:>12.1f} {:>12.2f} {:>9.2f}{}\n", st["vus"].get<double>(),
                         st["throughput"].get<double>(), st["iterations_per_s"].get<double>(),
                         st["iteration_avg_ms"].get<double>(), st["littles_n"].get<double>(),
                         st["littles_ok"].get<bool>() ? "" : " ✗ (Little's law off by more than 10%)");
    }
    const json& fit = r.usl["fit"];
    if (fit.is_object()) {
      out += fmt::format("    USL: σ = {:.4g}, κ = {:.4g}, λ = {:.4g}, R² = {:.4f}; {}\n", fit["sigma"].get<double>(),
                         fit["kappa"].get<double>(), fit["lambda"].get<double>(), fit["r_squared"].get<double>(),
                         fit["limit"].get<std::string>());
    }
  }
  if (!r.apdex.empty()) {
    out += fmt::format("\n  apdex (T = {:g} ms)\n", r.apdex_t_ms);
    for (const auto& [name, a] : r.apdex) {
      out += fmt::format("    {:<24} {:.3f}  ({} satisfied, {} tolerating, {} frustrated)\n", name, a.score,
                         a.satisfied, a.tolerating, a.frustrated);
    }
  }
  if (!r.findings.empty()) {
    out += "\n  findings\n";
    for (const Finding& f : r.findings) out += fmt::format("    [{}] {}\n", f.rule, f.text);
  }
  if (r.capacity) {
    const CapacityReport& c = *r.capacity;
    out += "\n  capacity search\n";
    out += fmt::format("    {:>10} {:>10} {:>9} {:>8}  {}\n", "rate/s", "reqs", "p99", "failed", "verdict");
    for (const CapacityStep& s : c.steps) {
      out +=
          fmt::format("    {:>10.1f} {:>10} {:>7.2f}ms {:>7.2f}%  {}{}\n", s.rate, s.reqs, s.p99_ms, 100 * s.error_rate,
                      s.passed ? "✓ passed" : "✗ " + s.failed, s.generator_limited ? " (generator limit)" : "");
    }
    out += c.found ? fmt::format("    max rate {:.1f}/s (p99 {:.2f} ms, {:.2f}% failed): {}\n", c.max_rate, c.p99_ms,
                                 100 * c.error_rate, c.why)
                   : fmt::format("    no rate kept every threshold passing: {}\n", c.why);
  }
  if (!r.faults.empty()) {
    out += "\n  faults (injected)\n";
    out += fmt::format("    {:<10} {:>7} {:>7} {:>7} {:>11} {:>8} {:>8} {:>9}  {}\n", "kind", "at", "for", "onset",
                       "worst p99", "errors", "failed", "recovery", "scenario");
    auto secs = [](const std::optional<double>& v, const char* none) {
      return v ? fmt::format("{:.0f}s", *v) : std::string(none);
    };
    for (const FaultReport& f : r.faults) {
      out += fmt::format("    {:<10} {:>6.1f}s {:>6.1f}s {:>7} {:>9.2f}ms {:>7.2f}% {:>8} {:>9}  {}\n", f.kind, f.at_s,
                         f.duration_s, secs(f.onset_s, "none"), f.worst_p99_ms, 100 * f.worst_error_rate, f.failed,
                         secs(f.recovery_s, "not seen"), f.scenario.empty() ? "all" : f.scenario);
    }
  }
  if (!r.load_changes.empty()) {
    // Recovery: after the change (a spike: after its fall) until p99 stays within the band 3 s.
    out += "\n  load changes\n";
    out += fmt::format("    {:<10} {:>7} {:>7} {:>15} {:>11} {:>9}  {}\n", "change", "at", "until", "level",
                       "worst p99", "recovery", "scenario");
    for (const LoadChangeReport& c : r.load_changes) {
      out += fmt::format("    {:<10} {:>6.1f}s {:>6.1f}s {:>15} {:>9.2f}ms {:>9}  {}\n", c.kind, c.at_s, c.end_s,
                         fmt::format("{:g} -> {:g}", c.from, c.to), c.worst_p99_ms,
                         c.recovery_s ? fmt::format("{:.0f}s", *c.recovery_s) : std::string("not seen"), c.scenario);
      for (const GaugeReaction& g : c.reactions) {
        out += g.reaction_s ? fmt::format("      {} reacted {:.0f}s after it ({:g} -> {:g})\n", g.gauge, *g.reaction_s,
                                          g.before, g.after)
                            : fmt::format("      {} did not react (stayed near {:g})\n", g.gauge, g.before);
      }
    }
  }
  if (!r.meta.aborted_by.empty()) out += fmt::format("\n  ABORTED by threshold {}\n", r.meta.aborted_by);
  for (const std::string& m : r.messages) out += fmt::format("\n  NOTE: {}\n", m);
  if (r.meta.interrupted_iterations > 0) {
    out += fmt::format("\n  NOTE: {} iterations were interrupted at the end of their graceful stop\n",
                       r.meta.interrupted_iterations);
  }
  return out;
}

// A capacity step's fields under their own names; those a file lacks keep their defaults.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CapacityStep, rate, passed, generator_limited, p99_ms, error_rate, reqs,
                                                failed)

json CapacityJson(const CapacityReport& c) {
  json steps = json::array();
  return {{"found", c.found},           {"max_rate", c.max_rate}, {"p99_ms", c.p99_ms},
          {"error_rate", c.error_rate}, {"steps", c.steps},       {"why", c.why}};
}

CapacityReport CapacityFromJson(const json& j) {
  CapacityReport c;
  c.found = j.at("found").get<bool>();
  c.max_rate = j.at("max_rate").get<double>();
  c.p99_ms = j.at("p99_ms").get<double>();
  c.error_rate = j.at("error_rate").get<double>();
  c.why = j.value("why", "");
  for (const json& s : j.at("steps")) {
    // A step's rate and verdict must be there (at() throws as for any missing key); what
    // later versions added may not be.
    for (const char* required : {"rate", "passed"}) (void)s.at(required);
    c.steps.push_back(s.get<CapacityStep>());
  }
  return c;
}

json TestSummaryExport(const RunResults& r) {
  json metrics = json::object();
  double secs = r.meta.duration_s;
  for (const std::string& m : r.store.Metrics()) metrics[m] = MetricJson(r.store.Select(m, {}), secs);
  metrics["vus_max"] = {{"value", r.meta.vus_max}, {"min", r.meta.vus_max}, {"max", r.meta.vus_max}};
  for (const ThresholdOutcome& o : r.thresholds) {
    auto sel = ParseMetricSelector(o.key);
    std::string key = sel.ok() && sel->tags.empty() ? sel->metric : o.key;
    if (!metrics.contains(key)) {
      SeriesAggregate a = sel.ok() ? r.store.Select(sel->metric, sel->tags) : SeriesAggregate{};
      metrics[key] = MetricJson(a, secs);
    }
    // k6's shape, keyed by the expression (with its window and tier when it has them).
    const std::string expr = DescribeExpr(o);
    metrics[key]["thresholds"][expr] = {{"ok", o.ok}};
    if (o.severity != Severity::kCritical) metrics[key]["thresholds"][expr]["severity"] = SeverityName(o.severity);
    if (o.no_data) metrics[key]["thresholds"][expr]["no_data"] = true;
  }
  json out = {
      {"metrics", metrics},
      {"state",
       {{"testRunDurationMs", secs * 1000}, {"interrupted", r.meta.interrupted}, {"aborted_by", r.meta.aborted_by}}}};
  if (r.capacity) out["capacity"] = CapacityJson(*r.capacity);
  if (!r.faults.empty()) out["faults"] = FaultsJson(r.faults);
  if (!r.load_changes.empty()) out["load_changes"] = LoadChangesJson(r.load_changes);
  return out;
}

json FaultsJson(const std::vector<FaultReport>& faults) {
  json out = json::array();
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  for (const FaultReport& f : faults) {
    out.push_back({{"kind", f.kind},
                   {"scenario", f.scenario},
                   {"at", f.at_s},
                   {"duration", f.duration_s},
                   {"onset_s", opt(f.onset_s)},
                   {"worst_p99_ms", f.worst_p99_ms},
                   {"worst_error_rate", f.worst_error_rate},
                   {"failed", f.failed},
                   {"recovery_s", opt(f.recovery_s)},
                   {"band_p99_ms", f.band_p99_ms},
                   {"band_error_rate", f.band_error_rate}});
  }
  return out;
}

json LoadChangesJson(const std::vector<LoadChangeReport>& changes) {
  json out = json::array();
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  for (const LoadChangeReport& c : changes) {
    json reactions = json::array();
    for (const GaugeReaction& g : c.reactions) {
      reactions.push_back(
          {{"gauge", g.gauge}, {"reaction_s", opt(g.reaction_s)}, {"before", g.before}, {"after", g.after}});
    }
    out.push_back({{"kind", c.kind},
                   {"scenario", c.scenario},
                   {"at_s", c.at_s},
                   {"end_s", c.end_s},
                   {"from", c.from},
                   {"to", c.to},
                   {"onset_s", opt(c.onset_s)},
                   {"recovery_s", opt(c.recovery_s)},
                   {"band_p99_ms", c.band_p99_ms},
                   {"worst_p99_ms", c.worst_p99_ms},
                   {"reactions", reactions}});
  }
  return out;
}

std::vector<LoadChangeReport> LoadChangesFromJson(const json& j) {
  std::vector<LoadChangeReport> out;
  auto opt = [](const json& v) {
    return v.is_null() ? std::optional<double>() : std::optional<double>(v.get<double>());
  };
  for (const json& c : j) {
    LoadChangeReport r;
    r.kind = c.at("kind").get<std::string>();
    r.scenario = c.value("scenario", "");
    r.at_s = c.at("at_s").get<double>();
    r.end_s = c.at("end_s").get<double>();
    r.from = c.value("from", 0.0);
    r.to = c.value("to", 0.0);
    r.onset_s = opt(c.value("onset_s", json()));
    r.recovery_s = opt(c.value("recovery_s", json()));
    r.band_p99_ms = c.value("band_p99_ms", -1.0);
    r.worst_p99_ms = c.value("worst_p99_ms", 0.0);
    for (const json& g : c.value("reactions", json::array())) {
      r.reactions.push_back({g.at("gauge").get<std::string>(), opt(g.value("reaction_s", json())),
                             g.value("before", 0.0), g.value("after", 0.0)});
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<FaultReport> FaultsFromJson(const json& j) {
  std::vector<FaultReport> out;
  auto opt = [](const json& v) {
    return v.is_null() ? std::optional<double>() : std::optional<double>(v.get<double>());
  };
  for (const json& f : j) {
    FaultReport r;
    r.kind = f.at("kind").get<std::string>();
    r.scenario = f.value("scenario", "");
    r.at_s = f.at("at").get<double>();
    r.duration_s = f.at("duration").get<double>();
    r.onset_s = opt(f.at("onset_s"));
    r.recovery_s = opt(f.at("recovery_s"));
    r.worst_p99_ms = f.at("worst_p99_ms").get<double>();
    r.worst_error_rate = f.at("worst_error_rate").get<double>();
    r.failed = f.at("failed").get<int64_t>();
    r.band_p99_ms = f.value("band_p99_ms", -1.0);
    r.band_error_rate = f.value("band_error_rate", -1.0);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace loadcell
