// The results document, written (results_file.h): the one JSON encoding of RunResults that
// the .json file, the NDJSON records and the service's API all use.
#include "output/results_file.h"

#include "metrics/hdr_codec.h"
#include "output/export.h"
#include "output/run_summary.h"
#include "output/series_fields.h"

namespace loadcell {
namespace {

using nlohmann::json;

const char* KindName(MetricKind k) {
  switch (k) {
    case MetricKind::kCounter: return "counter";
    case MetricKind::kRate: return "rate";
    case MetricKind::kTrend: return "trend";
    case MetricKind::kGauge: return "gauge";
  }
  return "counter";
}

json StatsJson(const SeriesStats& s) {
  json j = json::object();
  for (const auto& f : kStatsFields) j[f.name] = f.Get(s);
  return j;
}

// In the series, per-name stats are arrays in kStatsFields order: a 1-hour run with 50
// request names has 180,000 of them, and objects would multiply the file and parse time.
json StatsArray(const SeriesStats& s) {
  json a = json::array();
  for (const auto& f : kStatsFields) a.push_back(f.Get(s));
  return a;
}

}  // namespace

json ThresholdSpecJson(const ThresholdSpec& t) {
  json j = {{"metric", t.key}, {"expr", t.expr}, {"severity", SeverityName(t.severity)}};
  if (t.windowed()) {
    j["during"] = {{"from_s", static_cast<double>(t.during_from) / 1e9}};
    if (t.during_to != kOpenEnd) j["during"]["to_s"] = static_cast<double>(t.during_to) / 1e9;
  }
  return j;
}

json ThresholdsJson(const std::vector<ThresholdOutcome>& ts) {
  json out = json::array();
  for (const ThresholdOutcome& t : ts) {
    json j = ThresholdSpecJson(t);
    j["ok"] = t.ok;
    j["no_data"] = t.no_data;
    j["observed"] = t.observed;
    out.push_back(std::move(j));
  }
  return out;
}

json FindingsJson(const RunResults& r) {
  json out = json::array();
  for (const Finding& f : r.findings) out.push_back({{"rule", f.rule}, {"text", f.text}});
  return out;
}

json ApdexJson(const RunResults& r) {
  json by = json::object();
  for (const auto& [name, a] : r.apdex) {
    by[name] = {
        {"score", a.score}, {"satisfied", a.satisfied}, {"tolerating", a.tolerating}, {"frustrated", a.frustrated}};
  }
  return {{"t_ms", r.apdex_t_ms}, {"by_name", by}};
}

std::string DumpJson(const json& j, int indent) { return j.dump(indent, ' ', false, json::error_handler_t::replace); }

json MetaJson(const RunMeta& m) {
  json scenarios = json::array();
  for (const ScenarioInfo& s : m.scenarios) {
    scenarios.push_back({{"name", s.name}, {"executor", s.executor}, {"planned_s", s.planned_s}});
  }
  json j = {{"test", m.test},
            {"file", m.file},
            {"file_sha256", m.file_sha256},
            {"version", m.version},
            {"host", m.host},
            {"command_line", m.command_line},
            {"seed", m.seed},
            {"start", Iso8601(m.start_unix)},
            {"end", Iso8601(m.end_unix)},
            {"start_unix", m.start_unix},
            {"end_unix", m.end_unix},
            {"duration_s", m.duration_s},
            {"interrupted", m.interrupted},
            {"aborted_by", m.aborted_by},
            {"vus_max", m.vus_max},
            {"interrupted_iterations", m.interrupted_iterations},
            {"scenarios", scenarios},
            {"tag_keys", m.tag_keys},
            {"complete", m.complete}};
  if (!m.segment.empty()) {
    j["segment"] = m.segment;
    j["segments"] = m.segments;
  }
  if (!m.parts.empty()) j["parts"] = m.parts;
  if (!m.instance_tags.empty()) j["instance_tags"] = m.instance_tags;
  if (!m.declared_thresholds.empty()) {
    json d = json::array();
    for (const ThresholdSpec& t : m.declared_thresholds) d.push_back(ThresholdSpecJson(t));
    j["declared_thresholds"] = d;
  }
  if (m.strict_thresholds) j["strict_thresholds"] = true;
  return j;
}

json PointJson(const SeriesPoint& p) {
  json j = StatsJson(p.all);
  for (const auto& f : kPointFields) j[f.name] = f.Get(p);
  j["by_name"] = json::object();
  for (const auto& [k, v] : p.by_name) j["by_name"][k] = StatsArray(v);
  j["by_scenario"] = p.iterations_by_scenario;
  j["errors"] = p.errors;
  if (!p.resources.empty()) j["resources"] = p.resources;
  if (!p.vus_by_scenario.empty()) j["vus_by_scenario"] = p.vus_by_scenario;
  return j;
}

json StoreJson(const MetricStore& s) {
  json out = json::array();
  s.ForEach([&](const std::string& metric, const SeriesAggregate& a) {
    json e = {{"metric", metric}, {"kind", KindName(a.kind)}, {"tags", a.tags}, {"count", a.count}};
    if (a.kind == MetricKind::kRate) e["passes"] = a.passes;
    if (a.kind == MetricKind::kGauge) {
      e["value"] = a.value;
      e["min"] = a.min;
      e["max"] = a.max;
    }
    if (a.kind == MetricKind::kTrend) {
      e["hdr"] = a.trend ? EncodeHdrBase64(*a.trend) : EncodeHdrBase64(HdrHistogram());
      if (a.trend && !a.trend->empty()) {
        e["min_us"] = a.trend->min();
        e["max_us"] = a.trend->max();
      }
    }
    out.push_back(std::move(e));
  });
  return out;
}

json ResultsSummaryJson(const RunResults& r) {
  json checks = json::array();
  for (const CheckRow& c : Checks(r)) checks.push_back({{"name", c.name}, {"passes", c.passes}, {"fails", c.fails}});
  json breakdowns = json::array();
  for (const BreakdownRow& b : Breakdowns(r)) {
    json row = StatsJson(b.latency);
    row["tag"] = b.tag;
    row["value"] = b.value;
    row["rate"] = b.rate;
    row["failed_rate"] = b.failed_rate;
    breakdowns.push_back(std::move(row));
  }
  json doc = {{"schema", kResultsSchema}, {"meta", MetaJson(r.meta)}, {"thresholds", ThresholdsJson(r.thresholds)},
              {"checks", checks},         {"breakdowns", breakdowns}, {"metrics", TestSummaryExport(r)["metrics"]},
              {"messages", r.messages}};
  if (r.capacity) doc["capacity"] = CapacityJson(*r.capacity);
  doc["findings"] = FindingsJson(r);
  if (!r.faults.empty()) doc["faults"] = FaultsJson(r.faults);
  if (!r.load_changes.empty()) doc["load_changes"] = LoadChangesJson(r.load_changes);
  doc["apdex"] = ApdexJson(r);
  if (r.usl.is_object()) doc["usl"] = r.usl;
  return doc;
}

json ResultsJson(const RunResults& r) {
  json doc = ResultsSummaryJson(r);
  json series = json::array();
  for (const SeriesPoint& p : r.series) series.push_back(PointJson(p));
  json& names = doc["series_fields"] = json::array();
  for (const auto& f : kStatsFields) names.push_back(f.name);
  doc["series"] = std::move(series);
  doc["histograms"] = StoreJson(r.store);
  return doc;
}

}  // namespace loadcell
