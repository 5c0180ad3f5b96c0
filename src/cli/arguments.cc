#include "cli/arguments.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "common/units.h"
#include "scenario/loader.h"

namespace loadcell {
namespace {

bool LooksLikeNumber(const std::string& a) {
  return a.size() > 1 && a[0] == '-' && (std::isdigit(static_cast<unsigned char>(a[1])) != 0 || a[1] == '.');
}

std::vector<std::string> OptionNames(const CLI::App& sub) {
  std::vector<std::string> names;
  for (const CLI::Option* o : sub.get_options()) {
    for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
    for (const std::string& s : o->get_snames()) names.push_back("-" + s);
  }
  return names;
}

// k6's spellings that loadcell says differently.
std::string K6Hint(const std::string& name) {
  static const std::map<std::string, std::string> kHints = {
      {"--iterations", "iterations are set in the test: `executor: shared-iterations` with `iterations: N`"},
      {"-i", "iterations are set in the test: `executor: shared-iterations` with `iterations: N`"},
      {"--stage", "stages are set in the test: `executor: ramping-vus` with `stages:`"},
      {"-s", "stages are set in the test: `executor: ramping-vus` with `stages:`"},
  };
  auto it = kHints.find(name);
  return it == kHints.end() ? "" : it->second;
}

// "run", "analyze usl": the words that name the command after `loadcell`.
std::string CommandPath(const CLI::App& sub) {
  std::string path = sub.get_name();
  for (const CLI::App* p = sub.get_parent(); p != nullptr && p->get_parent() != nullptr; p = p->get_parent()) {
    path = p->get_name() + " " + path;
  }
  return path;
}

}  // namespace

std::optional<std::string> FirstBadArgument(const CLI::App& sub, const std::vector<std::string>& args) {
  size_t positional_room = 0;
  std::string positional_name;
  for (const CLI::Option* o : sub.get_options()) {
    if (!o->get_positional()) continue;
    int max = o->get_items_expected_max();
    positional_room += max >= (1 << 20) ? (1u << 20) : static_cast<size_t>(std::max(0, max));
    if (positional_name.empty()) positional_name = o->get_name();
  }
  size_t positionals = 0;
  bool only_positionals = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!only_positionals && a == "--") {
      only_positionals = true;
      continue;
    }
    if (!only_positionals && a.size() > 1 && a[0] == '-' && !LooksLikeNumber(a)) {
      bool long_form = a.starts_with("--");
      std::string name = long_form ? a.substr(0, a.find('=')) : a.substr(0, 2);
      if (name == "-h" || name == "--help") continue;
      const CLI::Option* o = sub.get_option_no_throw(name);
      if (o == nullptr) {
        std::string hint = K6Hint(name);
        if (hint.empty()) {
          std::string s = Suggest(name, OptionNames(sub));
          if (!s.empty()) hint = fmt::format("did you mean {}?", s);
        }
        return fmt::format("{}: unknown option of `loadcell {}`{}", name, CommandPath(sub),
                           hint.empty() ? " (see loadcell " + CommandPath(sub) + " --help)" : " (" + hint + ")");
      }
      // Its value is the next argument ("-d 10s"), unless given inline ("--duration=10s", "-d10s").
      bool inline_value = long_form ? a.find('=') != std::string::npos : a.size() > 2;
      if (o->get_expected_min() > 0 && !inline_value) ++i;
      continue;
    }
    if (positionals == 0) {
      // A nested command ("analyze usl FILE") judges what follows it.
      for (const CLI::App* nested : sub.get_subcommands([](const CLI::App*) { return true; })) {
        if (nested->get_name() == a)
          return FirstBadArgument(*nested, std::vector<std::string>(args.begin() + i + 1, args.end()));
      }
    }
    if (++positionals > positional_room) {
      if (positional_room == 0)
        return fmt::format("{}: unexpected argument (`loadcell {}` takes no file)", a, CommandPath(sub));
      return fmt::format("{}: unexpected argument (`loadcell {}` takes {} {}{})", a, CommandPath(sub),
                         positional_room == 1 ? "one" : std::to_string(positional_room), positional_name,
                         positional_room == 1 ? "" : "s");
    }
  }
  return std::nullopt;
}

std::string DescribeParseError(const CLI::App& sub, const CLI::ParseError& e) {
  std::string what = e.what();
  const std::string required = " is required";
  if (what.ends_with(required)) {
    std::string name = what.substr(0, what.size() - required.size());
    return fmt::format("{}: missing (loadcell {} --help)", name, CommandPath(sub));
  }
  // CLI11 says "--x: message" or "message"; keep it on one line.
  for (char& c : what) {
    if (c == '\n') c = ' ';
  }
  return what;
}

std::optional<std::string> CheckTestFileArgument(const std::string& path) {
  for (const char* ext : {".js", ".mjs", ".cjs", ".ts"}) {
    if (path.ends_with(ext)) {
      return fmt::format(
          "{}: loadcell runs test definitions written in YAML (.yaml), not k6 JavaScript; "
          "docs/test-definition.md shows the format (scenarios, requests, checks, thresholds)",
          path);
    }
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return fmt::format("{}: cannot read the test file: {}", path, std::strerror(errno));
  return std::nullopt;
}

bool ParsePositiveDuration(const char* flag, const std::string& text, Nanos* out) {
  auto d = ParseDuration(text);
  if (!d.ok() || *d <= 0) {
    std::fprintf(stderr, "loadcell: %s: %s\n", flag, d.ok() ? "must be greater than zero" : d.error().message.c_str());
    return false;
  }
  *out = *d;
  return true;
}

std::optional<TestDefinition> LoadTestArgument(const std::string& path, const LoadOptions& options) {
  if (auto bad = CheckTestFileArgument(path)) {
    std::fprintf(stderr, "loadcell: %s\n", bad->c_str());
    return std::nullopt;
  }
  auto def = LoadTestFile(path, options);
  if (!def.ok()) {
    std::fprintf(stderr, "%s\n", def.error().message.c_str());
    return std::nullopt;
  }
  return std::move(def).value();
}

void AddMonitorOptions(CLI::App& cmd, std::vector<long long>* pids, std::vector<std::string>* scrapes,
                       std::vector<std::string>* postgres) {
  cmd.add_option("--monitor-pid", *pids, "Sample this process (and its children) from /proc every second; repeatable")
      ->check(CLI::Range(1LL, 1LL << 22));
  cmd.add_option("--monitor-scrape", *scrapes,
                 "Read this Prometheus/OpenMetrics endpoint every second (monitor_<name> gauges); repeatable")
      ->check([](const std::string& url) {
        return url.starts_with("http://") || url.starts_with("https://") ? std::string() : "an http:// or https:// URL";
      });
  cmd.add_option("--monitor-postgres", *postgres,
                 "Read this PostgreSQL server's statistics every second (monitor_pg_ gauges); repeatable")
      ->check([](const std::string& url) {
        return url.starts_with("postgres://") || url.starts_with("postgresql://")
                   ? std::string()
                   : "a postgres:// or postgresql:// URL";
      });
}

}  // namespace loadcell
