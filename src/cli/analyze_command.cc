// `loadcell analyze usl FILE.csv [--json F]`: scalability from a concurrency sweep.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "analysis/usl.h"
#include "cli/commands.h"
#include "output/export.h"
#include "output/results_file.h"

namespace loadcell {

void AddAnalyzeOptions(CLI::App& cmd, AnalyzeArgs& a) {
  cmd.require_subcommand(1);
  CLI::App* usl = cmd.add_subcommand("usl", "Fit the Universal Scalability Law to concurrency,throughput rows");
  usl->add_option("file", a.file, "CSV with rows concurrency,throughput (a header is allowed)")->required();
  usl->add_option("--json", a.json, "Write the fit as JSON here (- for stdout)");
  usl->add_option("--bootstrap", a.bootstrap, "Bootstrap resamples for the intervals")->check(CLI::Range(0, 100000));
}

int RunAnalyzeCommand(const AnalyzeArgs& a) {
  std::ifstream in(a.file);
  if (!in) {
    std::fprintf(stderr, "loadcell: cannot read %s\n", a.file.c_str());
    return kExitFailure;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  auto points = ReadUslCsv(ss.str(), a.file);
  if (!points.ok()) {
    std::fprintf(stderr, "loadcell: %s\n", points.error().message.c_str());
    return kExitBadInput;
  }
  auto fit = FitUsl(*points, a.bootstrap);
  if (!fit.ok()) {
    std::fprintf(stderr, "loadcell: %s: %s\n", a.file.c_str(), fit.error().message.c_str());
    return kExitBadInput;
  }
  std::string json = DumpJson(UslJson(*fit, *points), 2) + "\n";
  if (a.json == "-") {
    std::fputs(json.c_str(), stdout);
    return kExitOk;
  }
  std::fputs(FormatUsl(*fit, *points).c_str(), stdout);
  if (!a.json.empty()) {
    Status s = WriteFile(a.json, json);
    if (!s.ok()) {
      std::fprintf(stderr, "loadcell: %s\n", s.error().message.c_str());
      return kExitFailure;
    }
  }
  return kExitOk;
}

}  // namespace loadcell
