// loadcell's entry point: parse the command line, dispatch to a subcommand, map errors to
// exit codes. Kept thin on purpose; the work lives in the libraries.
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/arguments.h"
#include "cli/commands.h"
#include "common/redact.h"

namespace loadcell {
std::atomic<bool> g_interrupted{false};
std::atomic<int> g_signals{0};
}  // namespace loadcell

namespace {

void OnSignal(int /*sig*/) {
  loadcell::g_interrupted.store(true);
  loadcell::g_signals.fetch_add(1);
}

// SIGHUP (the terminal went away, or `serve` died: its runs' parent-death signal) stops
// the run gracefully, however often it comes: it never counts as a second Ctrl-C.
void OnHangup(int /*sig*/) { loadcell::g_interrupted.store(true); }

}  // namespace

int main(int argc, char** argv) {
  using namespace loadcell;
  std::signal(SIGPIPE, SIG_IGN);
  // A file-size limit (ulimit -f) must be a write error reported by name, not a crash that
  // loses every other output.
  std::signal(SIGXFSZ, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  struct sigaction hup {};
  hup.sa_handler = OnHangup;
  sigemptyset(&hup.sa_mask);
  sigaction(SIGHUP, &hup, nullptr);

  // Recorded in every results file and summary: credentials in -H values are redacted.
  const std::string command_line = RecordedCommandLine(std::vector<std::string>(argv, argv + argc));

  CLI::App app{"loadcell — load and performance testing, measured exactly"};
  app.set_version_flag("--version", std::string(LOADCELL_VERSION));
  app.require_subcommand(1);
  QuickArgs quick;
  CLI::App* q = app.add_subcommand("quick", "Load one URL (closed model, or open with -R)");
  AddQuickOptions(*q, quick);
  RunArgs run;
  CLI::App* r = app.add_subcommand("run", "Run a test definition (YAML)");
  AddRunOptions(*r, run);
  ValidateArgs validate;
  CLI::App* v = app.add_subcommand("validate", "Check a test definition without running it");
  AddValidateOptions(*v, validate);
  ReportArgs report;
  CLI::App* rep =
      app.add_subcommand("report", "Render a results file (.json or .ndjson) as HTML, JUnit, Markdown, CSV");
  AddReportOptions(*rep, report);
  CompareArgs compare;
  CLI::App* cmp = app.add_subcommand("compare", "Compare a run with a baseline (exit 99 on a significant regression)");
  AddCompareOptions(*cmp, compare);
  MergeArgs merge;
  CLI::App* mrg = app.add_subcommand("merge", "Merge the parts of a test split across generators (run --segment)");
  AddMergeOptions(*mrg, merge);
  AnalyzeArgs analyze;
  CLI::App* an = app.add_subcommand("analyze", "Analyses of measurements: usl (scalability)");
  AddAnalyzeOptions(*an, analyze);
  HistoryArgs history;
  CLI::App* hist = app.add_subcommand("history", "List recorded runs (run --history) with change points");
  AddHistoryOptions(*hist, history);
  ProxyArgs proxy;
  CLI::App* px = app.add_subcommand("proxy", "A TCP proxy that injects faults between two services (HTTP control API)");
  AddProxyOptions(*px, proxy);
  ServeArgs serve;
  CLI::App* sv =
      app.add_subcommand("serve", "Run loadcell as a service: REST API, run history, alerts, schedules, web UI");
  AddServeOptions(*sv, serve);
  TargetArgs target;
  CLI::App* t = app.add_subcommand("target", "Run the built-in HTTP/1.1 test server");
  AddTargetOptions(*t, target);

  if (argc > 1 && argv[1][0] != '-') {
    std::string known;
    bool found = false;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      known += (known.empty() ? "" : ", ") + sub->get_name();
      found |= sub->get_name() == argv[1];
    }
    if (!found) {
      std::fprintf(stderr, "loadcell: unknown command \"%s\" (expected one of: %s)\n", argv[1], known.c_str());
      return kExitBadInput;
    }
  }
  CLI::App* chosen = nullptr;
  if (argc > 1 && argv[1][0] != '-') {
    chosen = app.get_subcommand(argv[1]);
    if (auto bad = FirstBadArgument(*chosen, std::vector<std::string>(argv + 2, argv + argc))) {
      std::fprintf(stderr, "loadcell: %s\n", bad->c_str());
      return kExitBadInput;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string line = chosen != nullptr ? DescribeParseError(*chosen, e) : e.what();
    std::fprintf(stderr, "loadcell: %s\n", line.c_str());
    return kExitBadInput;
  }
  if (q->parsed()) return RunQuick(quick, command_line);
  if (t->parsed()) return RunTargetCommand(target);
  if (px->parsed()) return RunProxyCommand(proxy);
  if (v->parsed()) return RunValidate(validate);
  if (r->parsed()) return RunTestCommand(run, command_line);
  if (rep->parsed()) return RunReportCommand(report);
  if (cmp->parsed()) return RunCompareCommand(compare);
  if (mrg->parsed()) return RunMergeCommand(merge, command_line);
  if (an->parsed()) return RunAnalyzeCommand(analyze);
  if (hist->parsed()) return RunHistoryCommand(history);
  if (sv->parsed()) return RunServeCommand(serve);
  return kExitBadInput;
}
