#include "engine/lifecycle.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/run_coordinator.h"

namespace loadcell {

Result<LifecycleRun> RunLifecycle(const TestDefinition& def, const Steps& steps, const std::string& name,
                                  const SetupData& setup, uint64_t seed, bool insecure,
                                  const std::atomic<bool>& interrupted) {
  TestDefinition d = def;
  d.scenarios.clear();
  d.thresholds.clear();
  d.monitor = {};
  d.has_monitor = false;
  d.alerting = {};
  d.has_alerting = false;
  d.faults.clear();
  d.has_faults = false;
  d.setup.clear();
  d.teardown.clear();
  ScenarioDef s;
  s.name = name;
  s.executor = ExecutorKind::kPerVuIterations;
  s.vus = 1;
  s.iterations = 1;
  s.max_duration = 10 * 60 * kSecond;
  s.graceful_stop = 0;
  s.flow = steps;
  d.scenarios.push_back(std::move(s));
  auto plan = PrepareTest(std::move(d), {}, 1, seed, insecure);
  if (!plan.ok()) return Error::InvalidArgument(fmt::format("{}: {}", name, plan.error().message));
  (*plan)->setup = setup;
  (*plan)->keep_vars = true;
  TestResult r = RunTest(**plan, interrupted);
  LifecycleRun out;
  out.data = std::move(r.vars);
  out.messages = r.messages;
  SeriesAggregate reqs = r.store.Select("http_reqs", {});
  SeriesAggregate failed = r.store.Select("http_req_failed", {});
  out.requests = reqs.count;
  out.failed = failed.passes;
  if (r.completed_iterations == 0) {
    std::string why = r.messages.empty() ? "it was interrupted" : r.messages.front();
    return Error::InvalidArgument(fmt::format("{} did not run to its end: {}", name, why));
  }
  return out;
}

std::string SetupDataJson(const SetupData& d) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, v] : d.vars) {
    if (d.json_vars.count(k) != 0) {
      auto parsed = nlohmann::ordered_json::parse(v, nullptr, false);
      j[k] = parsed.is_discarded() ? nlohmann::ordered_json(v) : parsed;
    } else {
      j[k] = v;
    }
  }
  return j.dump(2) + "\n";
}

Result<SetupData> ParseSetupData(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error::InvalidArgument("not a JSON object of setup's variables");
  SetupData d;
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) {
      d.vars[k] = v.get<std::string>();
    } else {
      d.vars[k] = v.dump();
      d.json_vars.insert(k);
    }
  }
  return d;
}

std::string DescribeLifecycle(const std::string& name, const LifecycleRun& r) {
  std::string names;
  for (const auto& [k, _] : r.data.vars) names += (names.empty() ? "" : ", ") + k;
  return fmt::format("{}: {} request{} ({} failed){}", name, r.requests, r.requests == 1 ? "" : "s", r.failed,
                     names.empty() ? "" : "; " + names);
}

}  // namespace loadcell
