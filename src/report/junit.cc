#include <fmt/format.h>

#include "report/report.h"

namespace loadcell {
namespace {

std::string Xml(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Control characters are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace

std::string JunitReport(const RunResults& r) {
  std::vector<CheckRow> checks = Checks(r);
  int thr_failed = 0, chk_failed = 0;
  for (const ThresholdOutcome& t : r.thresholds) thr_failed += t.ok ? 0 : 1;
  for (const CheckRow& c : checks) chk_failed += c.fails > 0 ? 1 : 0;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" time=\"{:.3f}\">\n", Xml(r.meta.test),
                     r.thresholds.size() + checks.size(), thr_failed + chk_failed, r.meta.duration_s);
  out += fmt::format("  <testsuite name=\"thresholds\" tests=\"{}\" failures=\"{}\">\n", r.thresholds.size(), thr_failed);
  for (const ThresholdOutcome& t : r.thresholds) {
    std::string name = Xml(fmt::format("{}: {}", t.key, t.expr));
    std::string observed = t.no_data ? "no data" : fmt::format("{:g}", t.observed);
    if (t.ok) {
      out += fmt::format("    <testcase classname=\"thresholds\" name=\"{}\"><system-out>observed {}</system-out></testcase>\n",
                         name, Xml(observed));
    } else {
      out += fmt::format("    <testcase classname=\"thresholds\" name=\"{}\">\n"
                         "      <failure message=\"{} failed: observed {}\" type=\"threshold\"/>\n    </testcase>\n",
                         name, name, Xml(observed));
    }
  }
  out += "  </testsuite>\n";
  out += fmt::format("  <testsuite name=\"checks\" tests=\"{}\" failures=\"{}\">\n", checks.size(), chk_failed);
  for (const CheckRow& c : checks) {
    int64_t n = c.passes + c.fails;
    if (c.fails == 0) {
      out += fmt::format("    <testcase classname=\"checks\" name=\"{}\"><system-out>{} of {} passed</system-out></testcase>\n",
                         Xml(c.name), c.passes, n);
    } else {
      out += fmt::format("    <testcase classname=\"checks\" name=\"{}\">\n"
                         "      <failure message=\"{} of {} failed ({:.2f}% passed)\" type=\"check\"/>\n    </testcase>\n",
                         Xml(c.name), c.fails, n, n ? 100.0 * static_cast<double>(c.passes) / static_cast<double>(n) : 0.0);
    }
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace loadcell
