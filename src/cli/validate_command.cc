#include <cstdio>

#include <fmt/format.h>

#include "cli/arguments.h"
#include "cli/commands.h"
#include "scenario/loader.h"

namespace loadcell {

void AddValidateOptions(CLI::App& cmd, ValidateArgs& a) {
  cmd.add_option("file", a.file, "Test definition (YAML)")->required();
  cmd.add_option("-e,--env", a.env, "KEY=VALUE visible as env.KEY and ${KEY} (repeatable)");
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
  if (auto bad = CheckTestFileArgument(a.file)) {
    std::fprintf(stderr, "loadcell: %s\n", bad->c_str());
    return kExitBadInput;
  }
  auto def = LoadTestFile(a.file, options);
  if (!def.ok()) {
    std::fprintf(stderr, "%s\n", def.error().message.c_str());
    return kExitBadInput;
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
