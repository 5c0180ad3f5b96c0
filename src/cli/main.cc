// loadcell's entry point: parse the command line, dispatch to a subcommand, map errors to
// exit codes. Kept thin on purpose; the work lives in the libraries.
#include <csignal>
#include <cstdio>
#include <functional>
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
  // Each command: its arguments, how they are declared, and what runs when it is chosen
  // (in the order `--help` lists them).
  QuickArgs quick;
  RunArgs run;
  ValidateArgs validate;
  SetupArgs setup, teardown;
  ReportArgs report;
  CompareArgs compare;
  MergeArgs merge;
  AnalyzeArgs analyze;
  HistoryArgs history;
  ProxyArgs proxy;
  ServeArgs serve;
  TargetArgs target;
  struct Command {
    const char* name;
    const char* about;
    std::function<void(CLI::App&)> declare;
    std::function<int()> run;
    CLI::App* app = nullptr;
  };
  std::vector<Command> commands = {
      {"quick", "Load one URL (closed model, or open with -R)", [&](CLI::App& a) { AddQuickOptions(a, quick); },
       [&] { return RunQuick(quick, command_line); }},
      {"run", "Run a test definition (YAML)", [&](CLI::App& a) { AddRunOptions(a, run); },
       [&] { return RunTestCommand(run, command_line); }},
      {"validate", "Check a test definition without running it", [&](CLI::App& a) { AddValidateOptions(a, validate); },
       [&] { return RunValidate(validate); }},
      {"setup", "Run a test's setup once and write what it left (for run --setup-data)",
       [&](CLI::App& a) { AddSetupOptions(a, setup); }, [&] { return RunSetupCommand(setup); }},
      {"teardown", "Run a test's teardown once with what setup left (after a split run)",
       [&](CLI::App& a) { AddTeardownOptions(a, teardown); }, [&] { return RunTeardownCommand(teardown); }},
      {"report", "Render a results file (.json or .ndjson) as HTML, JUnit, Markdown, CSV",
       [&](CLI::App& a) { AddReportOptions(a, report); }, [&] { return RunReportCommand(report); }},
      {"compare", "Compare a run with a baseline (exit 99 on a significant regression)",
       [&](CLI::App& a) { AddCompareOptions(a, compare); }, [&] { return RunCompareCommand(compare); }},
      {"merge", "Merge the parts of a test split across generators (run --segment)",
       [&](CLI::App& a) { AddMergeOptions(a, merge); }, [&] { return RunMergeCommand(merge, command_line); }},
      {"analyze", "Analyses of measurements: usl (scalability)", [&](CLI::App& a) { AddAnalyzeOptions(a, analyze); },
       [&] { return RunAnalyzeCommand(analyze); }},
      {"history", "List recorded runs (run --history) with change points",
       [&](CLI::App& a) { AddHistoryOptions(a, history); }, [&] { return RunHistoryCommand(history); }},
      {"proxy", "A TCP proxy that injects faults between two services (HTTP control API)",
       [&](CLI::App& a) { AddProxyOptions(a, proxy); }, [&] { return RunProxyCommand(proxy); }},
      {"serve", "Run loadcell as a service: REST API, run history, alerts, schedules, web UI",
       [&](CLI::App& a) { AddServeOptions(a, serve); }, [&] { return RunServeCommand(serve); }},
      {"target", "Run the built-in HTTP/1.1 test server", [&](CLI::App& a) { AddTargetOptions(a, target); },
       [&] { return RunTargetCommand(target); }},
  };
  for (Command& c : commands) {
    c.app = app.add_subcommand(c.name, c.about);
    c.declare(*c.app);
  }

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
  for (const Command& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  return kExitBadInput;
}
