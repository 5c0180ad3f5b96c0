// `loadcell merge PARTS... --out merged.json`: the generators' parts of a segmented test
// (run --segment) made into the whole test's result (results/merge.h), with its thresholds
// judged on the merged metrics; the exit code is `run`'s.
#include <cstdio>

#include "analysis/fault_report.h"
#include "analysis/findings.h"
#include "cli/commands.h"
#include "output/export.h"
#include "output/results_file.h"
#include "output/run_summary.h"
#include "report/report.h"
#include "results/merge.h"

namespace loadcell {

void AddMergeOptions(CLI::App& cmd, MergeArgs& a) {
  cmd.add_option("parts", a.parts, "Results of each generator (run --segment ... --out F), .json or .ndjson")->required();
  cmd.add_option("--out", a.out, "Write the merged results here (.json)")->required();
  cmd.add_option("--summary-export", a.summary_export, "Write the merged summary (k6 layout) here");
  cmd.add_option("--report", a.report, "Write the HTML report of the merged result here");
  cmd.add_flag("-q,--quiet", a.quiet, "Do not print the summary");
  cmd.add_flag("--strict-thresholds", a.strict_thresholds,
               "A threshold that no sample matched fails (also when a part was run with it)");
}

int RunMergeCommand(const MergeArgs& a, const std::string& command_line) {
  if (!a.out.ends_with(".json")) {
    std::fprintf(stderr, "loadcell: --out %s: the merged result is one document: the file name must end in .json\n",
                 a.out.c_str());
    return kExitBadInput;
  }
  std::vector<MergePart> parts;
  for (const std::string& path : a.parts) {
    MergePart p;
    p.name = path;
    auto r = ReadResultsFile(path, &p.seconds);
    if (!r.ok()) {
      std::fprintf(stderr, "loadcell: %s\n", r.error().message.c_str());
      return r.error().kind == ErrorKind::kIo ? kExitFailure : kExitBadInput;
    }
    p.results = std::move(r).value();
    parts.push_back(std::move(p));
  }
  auto merged = MergeParts(std::move(parts), a.strict_thresholds);
  if (!merged.ok()) {
    std::fprintf(stderr, "loadcell: merge: %s\n", merged.error().message.c_str());
    return kExitBadInput;
  }
  RunResults results = std::move(merged).value();
  results.meta.command_line = command_line;
  // The faults' effects, judged again on the whole test's seconds.
  if (!results.faults.empty()) {
    std::vector<FaultDef> defs;
    for (const FaultReport& f : results.faults) {
      FaultDef d;
      d.kind = f.kind == "latency" ? FaultDef::Kind::kLatency : f.kind == "reset" ? FaultDef::Kind::kReset
               : f.kind == "bandwidth"                        ? FaultDef::Kind::kBandwidth
                                                              : FaultDef::Kind::kBlackhole;
      d.at = static_cast<Nanos>(f.at_s * 1e9);
      d.duration = static_cast<Nanos>(f.duration_s * 1e9);
      d.scenario = f.scenario;
      defs.push_back(d);
    }
    results.faults = AnalyzeFaults(defs, results.series);
  }
  results.findings = FindBottlenecks(results);
  results.apdex = ApdexByName(results, results.apdex_t_ms > 0 ? results.apdex_t_ms : 500);
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
