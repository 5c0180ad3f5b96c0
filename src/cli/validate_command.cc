#include <cstdio>

#include <fmt/format.h>

#include "cli/arguments.h"
#include "cli/commands.h"
#include "common/units.h"
#include "engine/generator_fit.h"
#include "scenario/loader.h"

namespace loadcell {

void AddValidateOptions(CLI::App& cmd, ValidateArgs& a) {
  cmd.add_option("file", a.file, "Test definition (YAML)")->required();
  cmd.add_option("-e,--env", a.env, "KEY=VALUE visible as env.KEY and ${KEY} (repeatable)");
  cmd.add_option("--max-value-size", a.max_value_size,
                 "The largest value the file may expand to (YAML aliases), e.g. 10MB");
}

bool ParseMaxValueSize(const std::string& text, uint64_t* out) {
  auto size = ParseSize(text);
  if (!size.ok() || *size <= 0) {
    std::fprintf(stderr, "loadcell: --max-value-size: %s\n",
                 size.ok() ? "must be greater than zero" : size.error().message.c_str());
    return false;
  }
  *out = static_cast<uint64_t>(*size);
  return true;
}

bool ParseEnvArgs(const std::vector<std::string>& args, std::map<std::string, std::string>* env) {
  for (const std::string& kv : args) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "loadcell: -e/--env: invalid \"%s\": expected KEY=VALUE\n", kv.c_str());
      return false;
    }
    (*env)[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return true;
}

int RunValidate(const ValidateArgs& a) {
  LoadOptions options;
  if (!ParseEnvArgs(a.env, &options.env)) return kExitBadInput;
  if (!ParseMaxValueSize(a.max_value_size, &options.max_value_size)) return kExitBadInput;
  auto def = LoadTestArgument(a.file, options);
  if (!def) return kExitBadInput;
  // Only a warning here: another machine (or a segment of the test) may be bigger.
  if (auto why = VusDoNotFit(PeakVus(*def, ExecutionSegment()), FileLimit(true), AvailableMemory())) {
    std::fprintf(stderr, "loadcell: warning: %s: %s\n", a.file.c_str(), why->c_str());
  }
  std::string names;
  for (const ScenarioDef& s : def->scenarios) {
    names += fmt::format("{}{} ({})", names.empty() ? "" : ", ", s.name, ExecutorName(s.executor));
  }
  size_t exprs = 0;
  for (const ThresholdDef& t : def->thresholds) exprs += t.exprs.size();
  std::printf("%s: valid — %zu scenario%s: %s; %zu threshold%s\n", a.file.c_str(), def->scenarios.size(),
              def->scenarios.size() == 1 ? "" : "s", names.c_str(), exprs, exprs == 1 ? "" : "s");
  return kExitOk;
}

}  // namespace loadcell
