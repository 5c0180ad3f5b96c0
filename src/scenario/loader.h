// Loads and validates a YAML test definition. Every problem is reported as
// "FILE:LINE:COL: key.path: message" and nothing runs (exit 104); unknown keys get a
// "did you mean" suggestion. Templates are compiled and their names checked, data files
// read, thresholds parsed — all before a run could start.
#pragma once

#include <map>
#include <string>

#include "common/result.h"
#include "scenario/definition.h"

namespace loadcell {

struct LoadOptions {
  std::map<std::string, std::string> env;  // -e KEY=VALUE; wins over the process environment
  bool use_process_env = true;
  // The most any one value of the file may expand to (YAML aliases repeat what they name:
  // nine levels of ten make a 711-byte file a billion values), in bytes.
  uint64_t max_value_size = 10 << 20;
  // Files a test names (data files) may only be relative paths without `..`, inside the
  // test's own directory: what `loadcell serve` runs (run --confine-files). `files`, when
  // set, holds them by name instead of the disk (a test validated before its run exists).
  bool confine_files = false;
  const std::map<std::string, std::string>* files = nullptr;
  // The text an unset ${VAR} error ends with: how to give the variable.
  std::string env_hint = "set it, pass -e {0}=..., or write ${{{0}:-default}}";
};

// True for a path a confined test may name: relative, no `..`, no empty name.
bool IsConfinedPath(const std::string& path);

// How deep a test file may nest (mappings and sequences).
inline constexpr int kMaxYamlDepth = 64;

Result<TestDefinition> LoadTestFile(const std::string& path, const LoadOptions& options = {});
Result<TestDefinition> LoadTestText(const std::string& text, const std::string& file_name,
                                    const LoadOptions& options = {});

// True for the counters of loadcell's metric catalogue (http_reqs, dropped_iterations, ...).
bool IsCounterMetric(const std::string& name);

// The closest of `candidates` to `word` when it is a plausible typo, else "".
std::string Suggest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace loadcell
