// What CLI11 says of bad arguments, said as every loadcell error is: one line,
// `loadcell: ARGUMENT: what is wrong`, naming the first argument that is wrong (CLI11
// lists every extra argument, the valid ones after an unknown option included, in reverse).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/clock.h"
#include "scenario/loader.h"

namespace loadcell {

// The first argument of `sub`'s (args after the subcommand's name) that it does not take:
// an unknown option, or one positional argument too many. nullopt when all fit.
std::optional<std::string> FirstBadArgument(const CLI::App& sub, const std::vector<std::string>& args);

// A CLI11 parse error of `sub` as one line (without "loadcell: ").
std::string DescribeParseError(const CLI::App& sub, const CLI::ParseError& e);

// A test file argument that cannot be a test definition (k6 JavaScript, unreadable):
// the line to print, or nullopt.
std::optional<std::string> CheckTestFileArgument(const std::string& path);

// The test file of `run` and `validate`, loaded: nullopt after printing what is wrong (the
// argument's problem, or the loader's file:line:col message).
std::optional<TestDefinition> LoadTestArgument(const std::string& path, const LoadOptions& options);

// --monitor-pid and --monitor-scrape, the same for `run` and `quick`.
void AddMonitorOptions(CLI::App& cmd, std::vector<long long>* pids, std::vector<std::string>* scrapes,
                       std::vector<std::string>* postgres);

// A duration flag that must be above zero ("--apdex-t", "500ms"): false after printing
// `loadcell: FLAG: what is wrong`.
bool ParsePositiveDuration(const char* flag, const std::string& text, Nanos* out);

}  // namespace loadcell
