// `loadcell merge PARTS... --out merged.json`: the generators' parts of a segmented test
// (run --segment) made into the whole test's result (results/merge.h), with its thresholds
// judged on the merged metrics; the exit code is `run`'s.
#include <cstdio>

#include <fmt/format.h>

#include "analysis/pipeline.h"
#include "cli/arguments.h"
#include "cli/commands.h"
#include "common/units.h"
#include "output/export.h"
#include "output/results_file.h"
#include "output/run_summary.h"
#include "report/report.h"
#include "results/merge.h"

namespace loadcell {

void AddMergeOptions(CLI::App& cmd, MergeArgs& a) {
  cmd.add_option("parts", a.parts, "Results of each generator (run --segment ... --out F), .json or .ndjson")
      ->required();
  cmd.add_option("--out", a.out, "Write the merged results here (.json)")->required();
  cmd.add_option("--summary-export", a.summary_export, "Write the merged summary (k6 layout) here");
  cmd.add_option("--report", a.report, "Write the HTML report of the merged result here");
  cmd.add_flag("-q,--quiet", a.quiet, "Do not print the summary");
  cmd.add_flag("--strict-thresholds", a.strict_thresholds,
               "A threshold that no sample matched fails (also when a part was run with it)");
  cmd.add_option("--apdex-t", a.apdex_t, "Apdex threshold T (default: the parts' own, which must agree)");
}

int RunMergeCommand(const MergeArgs& a, const std::string& command_line) {
  if (!a.out.ends_with(".json")) {
    std::fprintf(stderr, "loadcell: --out %s: the merged result is one document: the file name must end in .json\n",
                 a.out.c_str());
    return kExitBadInput;
  }
  double apdex_t_ms = 0;
  if (!a.apdex_t.empty()) {
    Nanos t = 0;
    if (!ParsePositiveDuration("--apdex-t", a.apdex_t, &t)) return kExitBadInput;
    apdex_t_ms = static_cast<double>(t) / 1e6;
  }
  std::vector<MergePart> parts;
  struct PartT {
    std::string name;
    double apdex_t_ms;
  };
  std::vector<PartT> parts_read;  // what the merge consumes, kept for the checks after it
  for (const std::string& path : a.parts) {
    MergePart p;
    p.name = path;
    auto r = ReadResultsFile(path, &p.seconds);
    if (!r.ok()) {
      std::fprintf(stderr, "loadcell: %s\n", r.error().message.c_str());
      return r.error().kind == ErrorKind::kIo ? kExitFailure : kExitBadInput;
    }
    p.results = std::move(r).value();
    parts_read.push_back({p.name, p.results.apdex_t_ms});
    parts.push_back(std::move(p));
  }
  auto merged = MergeParts(std::move(parts), a.strict_thresholds);
  if (!merged.ok()) {
    std::fprintf(stderr, "loadcell: merge: %s\n", merged.error().message.c_str());
    return kExitBadInput;
  }
  MergedRun whole = std::move(merged).value();
  RunResults results = std::move(whole.results);
  results.meta.command_line = command_line;
  // Apdex's T: given, or the one every part was run with.
  if (apdex_t_ms == 0) {
    apdex_t_ms = results.apdex_t_ms > 0 ? results.apdex_t_ms : 500;
    for (const PartT& p : parts_read) {
      if (p.apdex_t_ms > 0 && p.apdex_t_ms != apdex_t_ms) {
        std::fprintf(stderr,
                     "loadcell: merge: the parts were run with different Apdex T (%s: %gms, %s: %gms): "
                     "give --apdex-t\n",
                     a.parts[0].c_str(), apdex_t_ms, p.name.c_str(), p.apdex_t_ms);
        return kExitBadInput;
      }
    }
  }
  // The faults' effects, judged again on the whole test's seconds.
  auto faults = FaultDefsOf(results.faults);
  if (!faults.ok()) {
    std::fprintf(stderr, "loadcell: merge: %s: %s\n", a.parts[0].c_str(), faults.error().message.c_str());
    return kExitBadInput;
  }
  AnalysisInputs analysis;
  analysis.thresholds = &whole.thresholds;
  analysis.per_second = whole.per_second;
  // The load changes, judged again on the whole test's seconds (the parts' gauges as they watched them).
  analysis.load_changes = results.load_changes;
  if (!results.load_changes.empty()) {
    for (const GaugeReaction& g : results.load_changes[0].reactions) analysis.reaction_gauges.push_back(g.gauge);
  }
  analysis.faults = std::move(faults).value();
  analysis.apdex_t_ms = apdex_t_ms;
  Analyze(results, analysis);
  if (!a.quiet) {
    std::fputs(FormatTestSummary(results).c_str(), stdout);
    std::fflush(stdout);
  }
  int code = kExitOk;
  auto write = [&code](const std::string& path, const std::string& text) {
    if (path.empty()) return;
    Status s = WriteFile(path, text);
    if (!s.ok()) {
      std::fprintf(stderr, "loadcell: %s\n", s.error().message.c_str());
      code = kExitFailure;
    }
  };
  write(a.out, DumpJson(ResultsJson(results), 1) + "\n");
  if (!a.report.empty()) write(a.report, HtmlReport(results));
  if (!a.summary_export.empty()) write(a.summary_export, DumpJson(TestSummaryExport(results), 2) + "\n");
  int run_code = RunExitCode(results);
  return run_code != kExitOk ? run_code : code;
}

}  // namespace loadcell
