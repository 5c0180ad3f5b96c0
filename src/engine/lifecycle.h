// A test's setup and teardown: their steps run once, as one VU of a scenario of their own
// ("setup", "teardown") on one thread, through the same engine as the load (requests, ws,
// sql, Lua, checks). What setup captures or sets is handed to every VU as `setup.NAME`;
// teardown sees it too. Their samples are not part of the run's metrics (they would blur
// the measured window's rates); what they did is said on stderr.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/run_plan.h"

namespace loadcell {

struct LifecycleRun {
  SetupData data;  // the variables the steps left
  int64_t requests = 0, failed = 0;
  std::vector<std::string> messages;
};

// Runs `steps` (the test's setup or teardown) once. `setup`: what setup left (teardown's
// `setup.NAME`). An error when the steps could not run to their end (a template that could
// not render, a Lua error, an interruption): the run must not start on half a setup.
Result<LifecycleRun> RunLifecycle(const TestDefinition& def, const Steps& steps, const std::string& name,
                                  const SetupData& setup, uint64_t seed, bool insecure,
                                  const std::atomic<bool>& interrupted);

// `loadcell setup -o FILE` and `run --setup-data FILE`: {"NAME": value, ...}, a JSON value
// where the variable is JSON, else a string.
std::string SetupDataJson(const SetupData& d);
Result<SetupData> ParseSetupData(const std::string& text);

// "setup: 2 requests (0 failed); token, tenant" — for stderr.
std::string DescribeLifecycle(const std::string& name, const LifecycleRun& r);

}  // namespace loadcell
