// Runs of the service, each in its own process: `loadcell run` of the same binary in a
// directory of its own, so a run that crashes, leaks or is killed never takes the server
// down. Runs wait in a queue (oldest first) while `max_concurrent` are running. While a
// run goes on its results stream (.ndjson) is the live snapshot; at its end the results
// document goes into the store and the run's directory is removed. Abort sends SIGINT:
// the run writes its outputs and ends as `aborted`. A server that dies takes its runs
// with it (PR_SET_PDEATHSIG), and the next start marks them interrupted, keeping what
// their stream had recorded.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "results/run_results.h"
#include "scenario/loader.h"
#include "service/store.h"

namespace loadcell {

class RunManager {
 public:
  struct Options {
    std::string binary;    // the loadcell executable (the server's own)
    std::string data_dir;  // run directories live here
    int max_concurrent = 1;
    // Where a run posts its live alerts (`run --alert-webhook`): the URL for a run id and
    // its key; none: runs send none.
    std::function<std::string(int64_t run_id, const std::string& key)> alert_webhook;
  };
  // Called on the manager's thread when a run has finished, just before its end is stored:
  // whoever sees the run finished also sees what it raised (alerts).
  using FinishedFn = std::function<void(const RunRecord& run, const RunResults* results)>;

  RunManager(Store& store, Options options, FinishedFn finished);
  ~RunManager();
  RunManager(const RunManager&) = delete;
  RunManager& operator=(const RunManager&) = delete;

  // Marks runs a previous server left running as interrupted (with what their streams
  // hold), then starts the manager's thread, which picks up queued runs.
  Status Start();
  // Wakes the manager: a run was queued.
  void Poke();
  // SIGINT to a running run (true), or a queued run ends as aborted at once (true);
  // false when the run is not active.
  bool Abort(int64_t id);
  // What a running run measured so far (from its stream); nullopt when it is not running
  // here or has not recorded a second yet.
  std::optional<RunResults> Partial(int64_t id);
  // The same in brief: elapsed, requests, failures, rate and p95 of the last second, series.
  std::optional<nlohmann::json> Snapshot(int64_t id);
  // Aborts every running run, waits for them to write their results, stops the thread.
  void Shutdown();
  // True when `key` is the live-alert key of run `id`, which is running here.
  bool AlertKeyMatches(int64_t id, const std::string& key);

 private:
  struct Child {
    int pid = -1;
    std::string dir;
    bool abort_requested = false;
    bool exited = false;    // reaped; being finished
    std::string alert_key;  // what the run's live alerts prove themselves with
  };
  void Loop();
  void StartQueued();
  void Launch(const RunRecord& run);
  void Reap();
  void Finish(int64_t id, const Child& child, int exit_code, const std::string& failure);
  std::string RunDir(int64_t id) const;

  Store& store_;
  Options options_;
  FinishedFn finished_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::map<int64_t, Child> running_;
  bool stopping_ = false;
  std::thread thread_;
};

// Turns a run's overrides ({"vus": 5, "duration": "10s", "env": {"K": "V"}}) into
// `loadcell run` options; an error names the offending field.
Result<std::vector<std::string>> OverrideArgs(const nlohmann::json& overrides);

// How a test submitted to the service is loaded: it sees only the variables its run is
// given (overrides.env) — never the server's environment — and names only files uploaded
// with it (`files`: name -> content), by relative paths without `..`.
LoadOptions ServeLoadOptions(const nlohmann::json& overrides, const std::map<std::string, std::string>* files);
// The overrides a scheduled run of a stored test starts with: its files.
std::string StoredTestOverrides(const StoredTest& t);

// A finished run's headline numbers from its results.
void FillHeadline(const RunResults& r, RunRecord* run);

}  // namespace loadcell
