#include "report/html.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "output/results_file.h"
#include "output/run_summary.h"
#include "report/assets.h"
#include "report/markup.h"
#include "report/report.h"

namespace loadcell {
namespace {

using nlohmann::json;

// JSON inside <script>: '<' only occurs in strings, where \u003c is the same character, so
// neither "</script>" nor "<!--" can end the block early.
std::string ScriptSafe(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  }
  return out;
}

// HdrHistogram's percentile spectrum: x = 1/(1-p), five points per halving of the tail,
// up to the point where one sample is left.
json Spectrum(const RunResults& r) {
  std::vector<std::pair<std::string, SeriesAggregate>> lines;
  lines.emplace_back("all", r.store.Select("http_req_duration", {}));
  std::vector<std::string> names = r.store.TagValues("http_req_duration", "name");
  if (names.size() > 1) {
    for (size_t i = 0; i < names.size() && i < 9; ++i)
      lines.emplace_back(names[i], r.store.Select("http_req_duration", {{"name", names[i]}}));
  }
  int64_t total = lines[0].second.trend ? lines[0].second.trend->total_count() : 0;
  json x = json::array();
  json out_lines = json::object();
  std::vector<double> ps;
  for (int k = 0;; ++k) {
    double inv = std::pow(2.0, k / 5.0);
    ps.push_back(100.0 * (1.0 - 1.0 / inv));
    x.push_back(inv);
    if (inv >= static_cast<double>(std::max<int64_t>(total, 1)) || k > 200) break;
  }
  for (const auto& [name, agg] : lines) {
    json ys = json::array();
    for (double p : ps) {
      const HdrHistogram* h = agg.trend.get();
      if (h == nullptr || h->empty()) {
        ys.push_back(nullptr);
      } else {
        ys.push_back(static_cast<double>(h->ValueAtPercentile(p)) / 1000.0);
      }
    }
    out_lines[name] = ys;
  }
  return {{"x", x}, {"lines", out_lines}};
}

json Columns(const RunResults& r) {
  json t = json::array(), vus = json::array(), rate = json::array(), failed = json::array(), iters = json::array();
  json p50 = json::array(), p90 = json::array(), p95 = json::array(), p99 = json::array();
  // Per-name lines for the ten busiest names: more would not be readable on one chart
  // (the table below has them all).
  std::map<std::string, int64_t> volume;
  for (const SeriesPoint& p : r.series) {
    for (const auto& [n, s] : p.by_name) volume[n] += s.reqs;
  }
  std::vector<std::pair<int64_t, std::string>> ranked;
  for (const auto& [n, v] : volume) ranked.emplace_back(-v, n);
  std::sort(ranked.begin(), ranked.end());
  std::set<std::string> names;
  for (size_t i = 0; i < ranked.size() && i < 10; ++i) names.insert(ranked[i].second);
  json by_name = json::object();
  for (const std::string& n : names) by_name[n] = {{"rate", json::array()}, {"p95", json::array()}};
  std::set<std::string> resource_names;
  for (const SeriesPoint& p : r.series) {
    for (const auto& [n, _] : p.resources) resource_names.insert(n);
  }
  json resources = json::object();
  for (const std::string& n : resource_names) resources[n] = json::array();
  auto nullable = [](const SeriesStats& s, double v) { return s.reqs > s.failed || v > 0 ? json(v) : json(nullptr); };
  for (const SeriesPoint& p : r.series) {
    // A last fraction of a second would chart as a dip (or spike) of its rates.
    if (p.dur < 0.5 && r.series.size() > 1) continue;
    double d = p.dur > 0 ? p.dur : 1;
    t.push_back(static_cast<double>(p.t - 1) + std::min(1.0, p.dur));
    vus.push_back(p.vus);
    rate.push_back(static_cast<double>(p.all.reqs) / d);
    failed.push_back(static_cast<double>(p.all.failed) / d);
    iters.push_back(static_cast<double>(p.iterations) / d);
    p50.push_back(nullable(p.all, p.all.p50));
    p90.push_back(nullable(p.all, p.all.p90));
    p95.push_back(nullable(p.all, p.all.p95));
    p99.push_back(nullable(p.all, p.all.p99));
    for (const std::string& n : resource_names) {
      auto it = p.resources.find(n);
      resources[n].push_back(it == p.resources.end() ? json(nullptr) : json(it->second));
    }
    for (const std::string& n : names) {
      auto it = p.by_name.find(n);
      SeriesStats s = it == p.by_name.end() ? SeriesStats{} : it->second;
      by_name[n]["rate"].push_back(static_cast<double>(s.reqs) / d);
      by_name[n]["p95"].push_back(it == p.by_name.end() ? json(nullptr) : nullable(s, s.p95));
    }
  }
  return {{"t", t},     {"vus", vus}, {"rate", rate}, {"failed_rate", failed}, {"iterations_rate", iters}, {"p50", p50},
          {"p90", p90}, {"p95", p95}, {"p99", p99},   {"by_name", by_name},    {"resources", resources}};
}

}  // namespace

json ReportData(const RunResults& r) {
  json doc = ResultsSummaryJson(r);
  RequestTotals all = TotalsOf(r);
  SeriesAggregate checks = r.store.Select("checks", {});
  json totals = {{"reqs", all.reqs},
                 {"rate", all.rate},
                 {"failed_rate", all.failed_rate},
                 {"p50", all.latency.p50},
                 {"p95", all.latency.p95},
                 {"p99", all.latency.p99},
                 {"max", all.latency.max},
                 {"iterations", r.store.Select("iterations", {}).count},
                 {"checks_pass", checks.passes},
                 {"checks_total", checks.count}};
  json notes = json::array();
  for (const Finding& f : r.findings) notes.push_back("Finding (" + f.rule + "): " + f.text);
  for (const std::string& m : r.messages) notes.push_back(m);
  if (!r.meta.aborted_by.empty()) notes.push_back("Aborted by threshold " + r.meta.aborted_by);
  if (r.meta.interrupted) notes.push_back("The run was interrupted before its end.");
  return {{"meta", doc["meta"]},
          {"thresholds", doc["thresholds"]},
          {"checks", doc["checks"]},
          {"breakdowns", doc["breakdowns"]},
          {"metrics", doc["metrics"]},
          {"totals", totals},
          {"series", Columns(r)},
          {"spectrum", Spectrum(r)},
          {"notes", notes},
          {"live", false},
          {"faults", FaultsJson(r.faults)}};
}

std::string HtmlPage(const std::string& title, const json& data, const std::string& extra_script) {
  std::string out;
  out.reserve(200000);
  out += "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>{}</title>\n", XmlEscape(title));
  out += "<style>\n";
  out += kUplotCss;
  out += "\n";
  out += kReportCss;
  out += "</style></head>\n<body>\n<div id=\"report\"></div>\n<script>\n";
  out += kUplotJs;
  out += "\n</script>\n<script>\n";
  out += kReportJs;
  out += "\n</script>\n<script id=\"report-data\" type=\"application/json\">";
  out += ScriptSafe(DumpJson(data));
  out +=
      "</script>\n<script>\nvar report = LoadcellReport.render(document.getElementById(\"report\"), "
      "JSON.parse(document.getElementById(\"report-data\").textContent));\n";
  out += extra_script;
  out += "\n</script>\n</body></html>\n";
  return out;
}

std::string HtmlReport(const RunResults& r) {
  return HtmlPage(fmt::format("loadcell report — {}", r.meta.test), ReportData(r));
}

}  // namespace loadcell
