#include "service/alerts.h"

#include <fmt/format.h>

#include "analysis/compare.h"
#include "scenario/loader.h"
#include "scenario/threshold.h"
#include "scenario/threshold_eval.h"

namespace loadcell {

Status ValidateRule(const AlertRule& rule) {
  if (rule.name.empty()) return Error::InvalidArgument("name: required");
  auto selector = ParseMetricSelector(rule.metric);
  if (!selector.ok()) return Error::InvalidArgument("metric: " + selector.error().message);
  auto expr = ParseThresholdExpr(rule.condition);
  if (!expr.ok()) return Error::InvalidArgument("condition: " + expr.error().message);
  if (rule.severity != "critical" && rule.severity != "warning" && rule.severity != "info") {
    return Error::InvalidArgument(fmt::format("severity: \"{}\" is not one of critical, warning, info", rule.severity));
  }
  if (rule.cooldown_s < 0) return Error::InvalidArgument("cooldown: must not be negative");
  return Status::Ok();
}

std::vector<AlertEvent> RunAlerts(const RunRecord& run, const RunResults& results, const std::vector<AlertRule>& rules,
                                  const std::function<double(int64_t)>& last_fired, double now) {
  std::vector<AlertEvent> out;
  auto event = [&](std::string kind, std::string severity, std::string message) {
    AlertEvent e;
    e.run_id = run.id;
    e.test_id = run.test_id;
    e.kind = std::move(kind);
    e.severity = std::move(severity);
    e.message = std::move(message);
    return e;
  };
  std::string failed;
  for (const ThresholdOutcome& t : results.thresholds) {
    if (!t.ok)
      failed += fmt::format("{}{} {} (observed {:.4g})", failed.empty() ? "" : "; ", t.key, t.expr, t.observed);
  }
  if (!failed.empty()) {
    out.push_back(event("threshold", "critical",
                        fmt::format("run {} of {}: thresholds failed: {}", run.id, run.test_name, failed)));
  }
  for (const AlertRule& rule : rules) {
    if (rule.test_id.has_value() && rule.test_id != run.test_id) continue;
    auto selector = ParseMetricSelector(rule.metric);
    auto expr = ParseThresholdExpr(rule.condition);
    if (!selector.ok() || !expr.ok()) continue;
    TestDefinition def;
    def.thresholds.push_back(ThresholdDef{{}, rule.metric, *selector, {*expr}, IsCounterMetric(selector->metric)});
    std::vector<ThresholdOutcome> o = EvaluateThresholds(def, results.store, results.meta.duration_s);
    if (o.empty() || o[0].no_data || !o[0].ok) continue;  // "ok" here: the alert condition holds
    double last = last_fired(rule.id);
    if (last > 0 && now - last < rule.cooldown_s) continue;
    AlertEvent e = event("rule", rule.severity,
                         fmt::format("{}: {} {} on run {} of {} (observed {:.4g})", rule.name, rule.metric,
                                     rule.condition, run.id, run.test_name, o[0].observed));
    e.rule_id = rule.id;
    out.push_back(std::move(e));
  }
  auto leak = results.store.Select("target_leak_suspected", {});
  if (leak.count > 0 && leak.value > 0) {
    out.push_back(
        event("leak", "warning",
              fmt::format("run {} of {}: the target's memory kept growing (leak suspected)", run.id, run.test_name)));
  }
  return out;
}

std::optional<AlertEvent> RegressionAlert(const RunRecord& run, int64_t baseline_id, const RunResults& baseline,
                                          const RunResults& current) {
  Comparison c = CompareRuns(baseline, current, CompareOptions{});
  if (!c.regressed()) return std::nullopt;
  std::string worse;
  for (const MetricComparison& m : c.rows) {
    if (m.verdict != Verdict::kWorse) continue;
    std::string what = m.request.empty() ? m.metric : m.request + " " + m.metric;
    worse += fmt::format("{}{} {:.4g} → {:.4g}", worse.empty() ? "" : ", ", what, m.baseline, m.current);
  }
  AlertEvent e;
  e.run_id = run.id;
  e.test_id = run.test_id;
  e.kind = "regression";
  e.severity = "critical";
  e.message = fmt::format("run {} of {} regressed against run {}: {}", run.id, run.test_name, baseline_id, worse);
  return e;
}

Status ApplyLiveAlerts(Store& store, const RunRecord& run, const nlohmann::json& notification, double now) {
  if (!notification.is_object() || !notification.contains("alerts") || !notification["alerts"].is_array())
    return Error::InvalidArgument("expected Alertmanager's webhook JSON with a list of `alerts`");
  for (const nlohmann::json& a : notification["alerts"]) {
    if (!a.is_object() || !a.contains("labels") || !a["labels"].is_object() || !a.contains("annotations"))
      return Error::InvalidArgument("an alert without labels and annotations");
    const std::string status = a.value("status", "");
    const std::string summary = a["annotations"].value("summary", "");
    std::string severity = a["labels"].value("severity", "critical");
    if (severity != "critical" && severity != "warning" && severity != "info") severity = "critical";
    // The threshold's own words ("key: expr [tier]") identify its event within the run.
    const size_t cut = summary.find(" crossed");
    if (cut == std::string::npos || (status != "firing" && status != "resolved"))
      return Error::InvalidArgument("an alert that is not loadcell's (no threshold in its summary, or no status)");
    const std::string which = summary.substr(0, cut);
    auto events = store.ListEvents("", run.id);
    if (!events.ok()) return events.error();
    const AlertEvent* open = nullptr;
    for (const AlertEvent& e : *events) {
      if (e.kind == "live" && e.status != "resolved" && e.message.starts_with(which + " crossed")) open = &e;
    }
    if (status == "firing" && open == nullptr) {
      AlertEvent e;
      e.run_id = run.id;
      e.test_id = run.test_id;
      e.kind = "live";
      e.severity = severity;
      e.message = fmt::format("{} (run {}, {})", summary, run.id, run.test_name);
      e.created = now;
      auto made = store.CreateEvent(e);
      if (!made.ok()) return made.error();
    } else if (status == "resolved" && open != nullptr) {
      if (Status st = store.SetEventStatus(open->id, "resolved", now); !st.ok()) return st;
    }
  }
  return Status::Ok();
}

Result<int> EscalateWarnings(Store& store, double after_s, double now) {
  auto open = store.ListEvents("open", std::nullopt);
  if (!open.ok()) return open.error();
  int n = 0;
  for (const AlertEvent& e : *open) {
    if (e.severity != "warning" || now - e.created < after_s) continue;
    Status st = store.EscalateEvent(
        e.id, "critical",
        fmt::format(" — escalated: not acknowledged within {}", FormatInstant(static_cast<Nanos>(after_s * 1e9))));
    if (!st.ok()) return st.error();
    ++n;
  }
  return n;
}

}  // namespace loadcell
