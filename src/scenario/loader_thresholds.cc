// Thresholds, and the tags their filters may name.
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
#include "scenario/threshold_eval.h"

namespace loadcell::loading {

void Loader::LoadThresholds(const Node& n, TestDefinition& def) {
  RequireMap(n, "thresholds");
  for (const auto& kv : n) {
    std::string key = kv.first.Scalar();
    std::string path = Join("thresholds", key);
    auto sel = ParseMetricSelector(key);
    if (!sel.ok()) Fail(kv.first, path, sel.error().message);
    const MetricInfo* known = FindMetric(sel->metric);
    if (sel->metric == "http_req_blocked" || sel->metric == "http_req_sending" || sel->metric == "http_req_receiving") {
      Fail(kv.first, path,
           fmt::format("`{}` is not measured yet (k6 has it; loadcell records http_req_connecting, "
                       "http_req_tls_handshaking and http_req_waiting)",
                       sel->metric));
    }
    if (known != nullptr && sel->metric.starts_with("monitor_pg_") && def.monitor.postgres.empty()) {
      Fail(kv.first, path,
           fmt::format("`{}` comes from `monitor.postgres`, which this test does not have", sel->metric));
    }
    if (known == nullptr && sel->metric.starts_with(kMonitorGaugePrefix)) {
      // A scrape names its gauges after what the endpoint serves: any name may come. Queries
      // name theirs here: the threshold must name one.
      std::vector<std::string> queried;
      for (const MonitorPrometheusDef& p : def.monitor.prometheus) {
        for (const auto& [name, _] : p.queries) queried.push_back(std::string(kMonitorGaugePrefix) + name);
      }
      bool named = std::find(queried.begin(), queried.end(), sel->metric) != queried.end();
      if (def.monitor.scrapes.empty() && !named) {
        if (queried.empty()) {
          Fail(kv.first, path,
               fmt::format("`{}`: monitor_ gauges come from `monitor.scrape` or `monitor.prometheus`, which this "
                           "test does not have",
                           sel->metric));
        }
        std::string s = Suggest(sel->metric, queried);
        Fail(kv.first, path,
             fmt::format("`{}` is none of the queries of `monitor.prometheus`{}", sel->metric,
                         s.empty() ? "" : fmt::format(" (did you mean `{}`?)", s)));
      }
      known = &MonitorGaugeInfo();
    }
    if (auto own = def.metrics.find(sel->metric); known == nullptr && own != def.metrics.end())
      known = &CustomMetricInfo(own->second);
    if (known == nullptr) {
      std::vector<std::string> names = MetricNames();
      for (const auto& [name, _] : def.metrics) names.push_back(name);
      std::string s = Suggest(sel->metric, names);
      Fail(kv.first, path,
           fmt::format("unknown metric `{}`{}", sel->metric, s.empty() ? "" : fmt::format(" (did you mean `{}`?)", s)));
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
        CheckKeys(item, ep, {"threshold", "abort_on_fail", "delay_abort_eval", "severity", "during"});
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
        if (Node sv = item["severity"]) {
          std::string name = String(sv, Join(ep, "severity"));
          if (!ParseSeverity(name, &e.value().severity)) {
            Fail(sv, Join(ep, "severity"), fmt::format("unknown severity `{}` (critical, warning or info)", name));
          }
        }
        if (Node d = item["during"]) LoadDuring(d, Join(ep, "during"), &e.value());
      }
      if (e->per_second()) {
        // Both judge from the run's seconds; abort_on_fail and the capacity search judge totals.
        const char* what = e->windowed() ? "`during`" : "growth";
        if (e->abort_on_fail) Fail(text, ep, fmt::format("abort_on_fail cannot be combined with {}", what));
        if (!def.scenarios.empty() && def.scenarios.front().executor == ExecutorKind::kCapacitySearch) {
          Fail(text, ep, fmt::format("{} does not apply to capacity-search, which judges each step on its own", what));
        }
      }
      if (e->aggregate == ThresholdExpr::Aggregate::kGrowth &&
          e->growth_unit == ThresholdExpr::GrowthUnit::kMibPerHour && known->unit != MetricUnit::kBytes &&
          !sel->metric.starts_with(kMonitorGaugePrefix)) {
        Fail(text, ep, fmt::format("MB/h is for gauges of bytes; `{}` is not one (use %/h, %/day or /h)", sel->metric));
      }
      t.exprs.push_back(std::move(e).value());
    }
    def.thresholds.push_back(std::move(t));
  }
}

void Loader::CollectTags(const Steps& steps, const std::string& group, TagSpace& t) {
  for (const Step& step : steps) {
    if (const auto* r = std::get_if<RequestStep>(&step.body)) {
      t.names.insert(r->name);
      for (const auto& [k, _] : r->tags) t.keys.insert(k);
      if (r->tag_from.has_value()) t.keys.insert(r->tag_from->as);
    } else if (const auto* w = std::get_if<WsStep>(&step.body)) {
      t.names.insert(w->name);
      for (const auto& [k, _] : w->tags) t.keys.insert(k);
    } else if (const auto* q = std::get_if<SqlStep>(&step.body)) {
      t.names.insert(q->name);
      for (const auto& [k, _] : q->tags) t.keys.insert(k);
    } else if (const auto* rec = std::get_if<RecordStep>(&step.body)) {
      for (const auto& [k, _] : rec->tags) t.keys.insert(k);
    }
    ForEachInnerSteps(step, [&](const Steps& inner, const std::string* group_name) {
      std::string path = group_name != nullptr ? group + "::" + *group_name : group;
      t.groups.insert(path);
      CollectTags(inner, path, t);
    });
  }
}

void Loader::CheckThresholdFilters(const Node& n, const TestDefinition& def) {
  TagSpace t;
  t.keys = {"scenario", "group", "name", "method", "status", "check", "kind", "capture", "db"};
  for (const ScenarioDef& s : def.scenarios) {
    t.scenarios.insert(s.name);
    for (const auto& [k, _] : s.tags) t.keys.insert(k);
    CollectTags(s.init, "", t);
    CollectTags(s.flow, "", t);
  }
  auto values = [](const std::set<std::string>& set) { return std::vector<std::string>(set.begin(), set.end()); };
  size_t i = 0;
  for (const auto& kv : n) {
    const ThresholdDef& th = def.thresholds[i++];
    std::string path = Join("thresholds", th.key);
    // A monitor gauge's tags are the labels its source serves: known only at run time.
    if (th.selector.metric.starts_with(kMonitorGaugePrefix)) continue;
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

void Loader::LoadDuring(const Node& d, const std::string& path, ThresholdExpr* e) {
  RequireMap(d, path);
  CheckKeys(d, path, {"from", "to"});
  if (!d["from"] && !d["to"]) Fail(d, path, "give `from`, `to` or both (times from the test's start, such as 2m)");
  if (Node f = d["from"]) e->during_from = Duration(f, Join(path, "from"), true);
  if (Node t = d["to"]) {
    e->during_to = Duration(t, Join(path, "to"), false);
    if (e->during_to <= e->during_from) {
      Fail(t, Join(path, "to"),
           fmt::format("`to` ({}) must be after `from` ({})", FormatInstant(e->during_to),
                       FormatInstant(e->during_from)));
    }
  }
}

void Loader::CheckAggregate(const Node& n, const std::string& path, MetricType type, const ThresholdExpr& e) {
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
      ok = e.aggregate == A::kValue || e.aggregate == A::kMin || e.aggregate == A::kMax || e.aggregate == A::kGrowth;
      allowed = "value, min, max, growth";
      break;
  }
  if (!ok) Fail(n, path, fmt::format("\"{}\" does not apply to this metric (use {})", e.source, allowed));
}

}  // namespace loadcell::loading
