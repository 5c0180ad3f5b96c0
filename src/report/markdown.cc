#include <fmt/format.h>

#include "common/printable.h"
#include "report/report.h"

namespace loadcell {
namespace {

// Table cells: a pipe would end the cell.
std::string Cell(const std::string& s) { return EscapeChars(s, {{'|', "\\|"}, {'\n', " "}}); }

std::string Ms(double ms) { return fmt::format("{:.2f} ms", ms); }

}  // namespace

std::string MarkdownReport(const RunResults& r) {
  std::string out = fmt::format("### {} loadcell: {}\n\n", Passed(r) ? "✅" : "❌", Cell(r.meta.test));
  RequestTotals all = TotalsOf(r);
  const SeriesStats& lat = all.latency;
  out += fmt::format("{:.1f} s, {} VUs max, {} iterations, {} requests ({:.1f}/s), {:.2f}% failed{}\n\n",
                     r.meta.duration_s, r.meta.vus_max, r.store.Select("iterations", {}).count, all.reqs, all.rate,
                     100.0 * all.failed_rate, r.meta.interrupted ? " — interrupted" : "");
  out += "| latency | p50 | p90 | p95 | p99 | max |\n|---|---:|---:|---:|---:|---:|\n";
  out += fmt::format("| http_req_duration | {} | {} | {} | {} | {} |\n\n", Ms(lat.p50), Ms(lat.p90), Ms(lat.p95),
                     Ms(lat.p99), Ms(lat.max));
  if (!r.thresholds.empty()) {
    out += "| threshold | | observed |\n|---|:---:|---:|\n";
    for (const ThresholdOutcome& t : r.thresholds) {
      out += fmt::format("| `{}: {}` | {} | {} |\n", Cell(t.key), Cell(DescribeExpr(t)),
                         t.ok ? "✅" : (t.fails_run() ? "❌" : "⚠️"),
                         t.no_data ? "no data" : fmt::format("{:g}", t.observed));
    }
    out += "\n";
  }
  std::vector<CheckRow> checks = Checks(r);
  if (!checks.empty()) {
    out += "| check | passed | failed |\n|---|---:|---:|\n";
    for (const CheckRow& c : checks) {
      out += fmt::format("| {} {} | {} | {} |\n", c.fails == 0 ? "✅" : "❌", Cell(c.name), c.passes, c.fails);
    }
    out += "\n";
  }
  std::vector<BreakdownRow> rows = Breakdowns(r);
  if (!rows.empty()) {
    out += "| request | reqs | rate | p95 | p99 | failed |\n|---|---:|---:|---:|---:|---:|\n";
    for (const BreakdownRow& b : rows) {
      std::string label = b.tag == "name" ? b.value : fmt::format("{}={}", b.tag, b.value);
      out += fmt::format("| {} | {} | {:.1f}/s | {} | {} | {:.2f}% |\n", Cell(label), b.reqs, b.rate,
                         b.has_latency ? Ms(b.latency.p95) : "-", b.has_latency ? Ms(b.latency.p99) : "-",
                         100.0 * b.failed_rate);
    }
    out += "\n";
  }
  for (const Finding& f : r.findings) out += fmt::format("> **{}**: {}\n\n", f.rule, Cell(f.text));
  if (r.capacity) {
    const CapacityReport& c = *r.capacity;
    out += c.found ? fmt::format(
                         "**Capacity**: {:.1f} req/s with every threshold passing (p99 {:.2f} ms, {:.2f}% failed; "
                         "{} steps). {}\n\n",
                         c.max_rate, c.p99_ms, 100 * c.error_rate, c.steps.size(), Cell(c.why))
                   : fmt::format("**Capacity**: no rate kept every threshold passing. {}\n\n", Cell(c.why));
  }
  if (!r.meta.aborted_by.empty()) out += fmt::format("**Aborted** by threshold {}\n\n", Cell(r.meta.aborted_by));
  for (const std::string& m : r.messages) out += fmt::format("> {}\n\n", Cell(m));
  return out;
}

}  // namespace loadcell
