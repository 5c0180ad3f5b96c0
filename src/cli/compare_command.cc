// `loadcell compare BASELINE CURRENT`: the performance regression gate (exit 99 when a
// metric got significantly worse than allowed).
#include <cstdio>

#include "analysis/compare.h"
#include "cli/commands.h"
#include "common/units.h"
#include "output/export.h"
#include "output/results_file.h"

namespace loadcell {

void AddCompareOptions(CLI::App& cmd, CompareArgs& a) {
  cmd.add_option("baseline", a.baseline, "Results of the baseline run (.json or .ndjson)")->required();
  cmd.add_option("current", a.current, "Results of the run to judge")->required();
  cmd.add_option("--max-regression", a.max_regression,
                 "Allowed worsening before a significant change fails (10% or 0.1)");
  cmd.add_option("--markdown", a.markdown, "Write the comparison as Markdown (for a pull-request comment)");
  cmd.add_option("--json", a.json, "Write the comparison as JSON");
}

int RunCompareCommand(const CompareArgs& a) {
  CompareOptions o;
  auto p = ParseProbability(a.max_regression);
  if (!p.ok()) {
    std::fprintf(stderr, "loadcell: --max-regression: %s\n", p.error().message.c_str());
    return kExitBadInput;
  }
  o.max_regression = *p;
  auto base = ReadResultsFile(a.baseline);
  if (!base.ok()) {
    std::fprintf(stderr, "loadcell: %s\n", base.error().message.c_str());
    return base.error().kind == ErrorKind::kIo ? kExitFailure : kExitBadInput;
  }
  auto cur = ReadResultsFile(a.current);
  if (!cur.ok()) {
    std::fprintf(stderr, "loadcell: %s\n", cur.error().message.c_str());
    return cur.error().kind == ErrorKind::kIo ? kExitFailure : kExitBadInput;
  }
  Comparison c = CompareRuns(*base, *cur, o);
  std::fputs(FormatComparison(c).c_str(), stdout);
  int code = c.regressed() ? kExitThresholds : kExitOk;
  auto write = [&code](const std::string& path, const std::string& content) {
    if (path.empty()) return;
    Status s = WriteFile(path, content);
    if (!s.ok()) {
      std::fprintf(stderr, "loadcell: %s\n", s.error().message.c_str());
      if (code == kExitOk) code = kExitFailure;
    }
  };
  write(a.markdown, ComparisonMarkdown(c));
  write(a.json, DumpJson(ComparisonJson(c), 2) + "\n");
  return code;
}

}  // namespace loadcell
