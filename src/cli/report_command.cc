// `loadcell report RESULTS`: renders a results file (.json, or the .ndjson stream of a run,
// complete or cut short) into the report formats.
#include <cstdio>

#include "cli/commands.h"
#include "output/export.h"
#include "output/results_file.h"
#include "report/report.h"

namespace loadcell {

void AddReportOptions(CLI::App& cmd, ReportArgs& a) {
  cmd.add_option("results", a.results, "Results file written by run --out (.json or .ndjson)")->required();
  cmd.add_option("--html", a.html, "Write the HTML report here");
  cmd.add_option("--junit", a.junit, "Write JUnit XML here (a test case per threshold and check)");
  cmd.add_option("--markdown", a.markdown, "Write a Markdown summary here");
  cmd.add_option("--csv", a.csv, "Write the per-second series as CSV here");
  cmd.add_option("--json", a.json, "Write the results as one JSON document here (e.g. from an .ndjson stream)");
}

int RunReportCommand(const ReportArgs& a) {
  if (a.html.empty() && a.junit.empty() && a.markdown.empty() && a.csv.empty() && a.json.empty()) {
    std::fprintf(stderr, "loadcell: report: nothing to write (give --html, --junit, --markdown, --csv or --json)\n");
    return kExitBadInput;
  }
  auto r = ReadResultsFile(a.results);
  if (!r.ok()) {
    std::fprintf(stderr, "loadcell: %s\n", r.error().message.c_str());
    return r.error().kind == ErrorKind::kIo ? kExitFailure : kExitBadInput;
  }
  int code = kExitOk;
  // Each format is rendered only when asked for.
  auto write = [&code](const std::string& path, auto render) {
    if (path.empty()) return;
    Status s = WriteFile(path, render());
    if (!s.ok()) {
      std::fprintf(stderr, "loadcell: %s\n", s.error().message.c_str());
      code = kExitFailure;
    }
  };
  const RunResults& res = *r;
  write(a.html, [&] { return HtmlReport(res); });
  write(a.junit, [&] { return JunitReport(res); });
  write(a.markdown, [&] { return MarkdownReport(res); });
  write(a.csv, [&] { return CsvSeries(res); });
  write(a.json, [&] { return DumpJson(ResultsJson(res), 1) + "\n"; });
  return code;
}

}  // namespace loadcell
