#include <fmt/format.h>

#include "report/markup.h"
#include "report/report.h"

namespace loadcell {

std::string JunitReport(const RunResults& r) {
  std::vector<CheckRow> checks = Checks(r);
  int thr_failed = 0, chk_failed = 0;
  int thr_skipped = 0;
  for (const ThresholdOutcome& t : r.thresholds) {
    thr_failed += t.fails_run() ? 1 : 0;  // warning and info crossings do not fail CI
    thr_skipped += t.ok && t.no_data ? 1 : 0;
  }
  for (const CheckRow& c : checks) chk_failed += c.fails > 0 ? 1 : 0;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  const int cut_short = r.meta.complete ? 0 : 1;
  out += fmt::format("<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" time=\"{:.3f}\">\n", XmlEscape(r.meta.test),
                     r.thresholds.size() + checks.size() + cut_short, thr_failed + chk_failed + cut_short,
                     r.meta.duration_s);
  if (cut_short) {
    // A killed run: its stream ends before the final record. CI must not read that as green.
    out +=
        "  <testsuite name=\"run\" tests=\"1\" failures=\"1\">\n"
        "    <testcase classname=\"run\" name=\"the run completed\">\n"
        "      <failure message=\"incomplete: the run ended without its final record (killed?); thresholds were "
        "judged on the per-second metrics it recorded\" type=\"incomplete\"/>\n    </testcase>\n  </testsuite>\n";
  }
  out += fmt::format("  <testsuite name=\"thresholds\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
                     r.thresholds.size(), thr_failed, thr_skipped);
  for (const ThresholdOutcome& t : r.thresholds) {
    std::string name = XmlEscape(fmt::format("{}: {}", t.key, DescribeExpr(t)));
    std::string observed = t.no_data ? "no data" : fmt::format("{:g}", t.observed);
    if (t.ok && t.no_data) {
      out += fmt::format(
          "    <testcase classname=\"thresholds\" name=\"{}\"><skipped message=\"no data: no sample "
          "matched\"/></testcase>\n",
          name);
    } else if (!t.ok && !t.fails_run()) {
      out += fmt::format(
          "    <testcase classname=\"thresholds\" name=\"{}\"><system-out>{} threshold crossed: observed "
          "{}</system-out></testcase>\n",
          name, SeverityName(t.severity), XmlEscape(observed));
    } else if (t.ok) {
      out += fmt::format(
          "    <testcase classname=\"thresholds\" name=\"{}\"><system-out>observed {}</system-out></testcase>\n", name,
          XmlEscape(observed));
    } else {
      out += fmt::format(
          "    <testcase classname=\"thresholds\" name=\"{}\">\n"
          "      <failure message=\"{} failed: observed {}\" type=\"threshold\"/>\n    </testcase>\n",
          name, name, XmlEscape(observed));
    }
  }
  out += "  </testsuite>\n";
  out += fmt::format("  <testsuite name=\"checks\" tests=\"{}\" failures=\"{}\">\n", checks.size(), chk_failed);
  for (const CheckRow& c : checks) {
    int64_t n = c.passes + c.fails;
    if (c.fails == 0) {
      out += fmt::format(
          "    <testcase classname=\"checks\" name=\"{}\"><system-out>{} of {} passed</system-out></testcase>\n",
          XmlEscape(c.name), c.passes, n);
    } else {
      out += fmt::format(
          "    <testcase classname=\"checks\" name=\"{}\">\n"
          "      <failure message=\"{} of {} failed ({:.2f}% passed)\" type=\"check\"/>\n    </testcase>\n",
          XmlEscape(c.name), c.fails, n, n ? 100.0 * static_cast<double>(c.passes) / static_cast<double>(n) : 0.0);
    }
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace loadcell
