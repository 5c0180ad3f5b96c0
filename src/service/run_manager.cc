#include "service/run_manager.h"

#include <openssl/rand.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "output/results_file.h"

namespace loadcell {
namespace fs = std::filesystem;

namespace {

std::string ReadTail(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.size() > max ? "…" + s.substr(s.size() - max) : s;
}

// The results a run left: the whole document when it finished, else its stream.
std::optional<RunResults> ReadRunResults(const std::string& dir) {
  for (const char* name : {"results.json", "results.ndjson"}) {
    std::string path = dir + "/" + name;
    if (!fs::exists(path)) continue;
    auto r = ReadResultsFile(path);
    if (r.ok()) return std::move(r).value();
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<std::string>> OverrideArgs(const nlohmann::json& o) {
  std::vector<std::string> args;
  if (o.is_null()) return args;
  if (!o.is_object()) return Error::InvalidArgument("overrides: expected an object");
  for (const auto& [key, value] : o.items()) {
    if (key == "vus") {
      if (!value.is_number_integer() || value.get<int64_t>() < 1)
        return Error::InvalidArgument("overrides.vus: expected an integer ≥ 1");
      args.insert(args.end(), {"--vus", std::to_string(value.get<int64_t>())});
    } else if (key == "duration") {
      if (!value.is_string()) return Error::InvalidArgument("overrides.duration: expected a duration such as \"30s\"");
      args.insert(args.end(), {"--duration", value.get<std::string>()});
    } else if (key == "env") {
      if (!value.is_object()) return Error::InvalidArgument("overrides.env: expected an object of strings");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string() || k.empty() || k.find('=') != std::string::npos) {
          return Error::InvalidArgument(
              fmt::format("overrides.env.{}: expected a string value and a name without '='", k));
        }
        args.insert(args.end(), {"-e", k + "=" + v.get<std::string>()});
      }
    } else if (key == "files") {
      continue;  // written into the run's directory by Launch, not a flag
    } else {
      return Error::InvalidArgument(fmt::format("overrides.{}: unknown key (expected vus, duration, env)", key));
    }
  }
  return args;
}

std::string StoredTestOverrides(const StoredTest& t) {
  auto files = nlohmann::json::parse(t.files, nullptr, false);
  if (!files.is_object() || files.empty()) return "{}";
  return nlohmann::json{{"files", files}}.dump();
}

LoadOptions ServeLoadOptions(const nlohmann::json& overrides, const std::map<std::string, std::string>* files) {
  LoadOptions o;
  o.use_process_env = false;
  o.confine_files = true;
  o.files = files;
  if (overrides.is_object() && overrides.contains("env") && overrides["env"].is_object()) {
    for (const auto& [k, v] : overrides["env"].items()) {
      if (v.is_string()) o.env[k] = v.get<std::string>();
    }
  }
  o.env_hint =
      "a test run by the service sees only the variables given with its run: pass \"overrides\": {{\"env\": "
      "{{\"{0}\": \"...\"}}}}, or write ${{{0}:-default}}";
  return o;
}

void FillHeadline(const RunResults& r, RunRecord* run) {
  RequestTotals all = TotalsOf(r);
  run->reqs = all.reqs;
  run->rate = all.rate;
  run->error_rate = all.failed_rate;
  run->p50_ms = all.latency.p50;
  run->p95_ms = all.latency.p95;
  run->p99_ms = all.latency.p99;
  run->duration_s = r.meta.duration_s;
}

RunManager::RunManager(Store& store, Options options, FinishedFn finished)
    : store_(store), options_(std::move(options)), finished_(std::move(finished)) {}

RunManager::~RunManager() { Shutdown(); }

std::string RunManager::RunDir(int64_t id) const { return fmt::format("{}/run-{}", options_.data_dir, id); }

Status RunManager::Start() {
  std::error_code ec;
  fs::create_directories(options_.data_dir, ec);
  if (ec) return Error::Io(fmt::format("cannot create the data directory {}: {}", options_.data_dir, ec.message()));
  // A run's child chdirs into its directory before it opens its output files: every path
  // it is given must not depend on the server's working directory.
  fs::path absolute = fs::absolute(options_.data_dir, ec);
  if (ec) return Error::Io(fmt::format("cannot resolve the data directory {}: {}", options_.data_dir, ec.message()));
  options_.data_dir = absolute.lexically_normal().string();
  auto interrupted = store_.MarkInterrupted(UnixNow());
  if (!interrupted.ok()) return interrupted.error();
  for (RunRecord run : *interrupted) {
    std::string dir = RunDir(run.id);
    std::optional<RunResults> results = ReadRunResults(dir);
    if (results.has_value()) {
      FillHeadline(*results, &run);
      Status s = store_.FinishRun(run, DumpJson(ResultsJson(*results)));
      if (!s.ok()) return s;
    }
    fs::remove_all(dir, ec);
  }
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void RunManager::Poke() { wake_.notify_all(); }

void RunManager::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    Reap();
    StartQueued();
    lock.lock();
    // Children are reaped by polling: a SIGCHLD handler would be process-wide, and 200 ms
    // is well below what anyone waits for a run's end.
    wake_.wait_for(lock, std::chrono::milliseconds(200));
  }
}

void RunManager::StartQueued() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_ || static_cast<int>(running_.size()) >= options_.max_concurrent) return;
    }
    RunFilter f;
    f.status = "queued";
    f.limit = 1000;
    auto queued = store_.ListRuns(f);
    if (!queued.ok() || queued->empty()) return;
    RunRecord run = queued->back();  // the oldest
    Launch(run);
  }
}

void RunManager::Launch(const RunRecord& run) {
  std::string dir = RunDir(run.id);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  auto fail = [&](const std::string& why) {
    RunRecord r = run;
    r.status = "error";
    r.finished = UnixNow();
    r.message = why;
    if (finished_) finished_(r, nullptr);
    (void)store_.FinishRun(r, "");
  };
  if (ec) return fail(fmt::format("cannot create the run directory {}: {}", dir, ec.message()));
  {
    std::ofstream f(dir + "/test.yaml", std::ios::binary);
    f << run.yaml;
    if (!f) return fail(fmt::format("cannot write {}/test.yaml", dir));
  }
  auto overrides = nlohmann::json::parse(run.overrides, nullptr, false);
  auto extra = OverrideArgs(overrides.is_discarded() ? nlohmann::json() : overrides);
  if (!extra.ok()) return fail(extra.error().message);
  // The files uploaded with the run, beside its test (names were checked when it was queued).
  if (!overrides.is_discarded() && overrides.contains("files") && overrides["files"].is_object()) {
    for (const auto& [name, content] : overrides["files"].items()) {
      if (!IsConfinedPath(name) || !content.is_string())
        return fail(fmt::format("files.{}: not a file of this run", name));
      fs::path path = fs::path(dir) / name;
      fs::create_directories(path.parent_path(), ec);
      std::ofstream f(path, std::ios::binary);
      f << content.get<std::string>();
      if (!f) return fail(fmt::format("cannot write {}", path.string()));
    }
  }
  std::vector<std::string> args = {options_.binary,  "run",   "test.yaml",   "-q", "--confine-files", "--out",
                                   "results.ndjson", "--out", "results.json"};
  args.insert(args.end(), extra->begin(), extra->end());
  // Live alerts come back to the service, with a key only this run knows.
  std::string alert_key;
  if (options_.alert_webhook) {
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1) return fail("cannot make the run's alert key: no randomness");
    for (unsigned char c : raw) alert_key += fmt::format("{:02x}", c);
    args.push_back("--alert-webhook");
    args.push_back(options_.alert_webhook(run.id, alert_key));
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The run's environment is its own: nothing of the server's (its secrets, LOADCELL_*,
  // HTTP(S)_PROXY) reaches the test; variables come with the run (overrides.env -> -e).
  // Sanitizer settings pass through: they configure the binary, not the test.
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"};
  for (const char* keep : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"}) {
    if (const char* v = std::getenv(keep)) env.push_back(std::string(keep) + "=" + v);
  }
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string out = dir + "/stdout.txt", err = dir + "/stderr.txt";
  pid_t parent = getpid();

  if (Status s = store_.MarkRunning(run.id, UnixNow()); !s.ok()) return fail(s.error().message);
  pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls from here on: the server has other threads.
    setpgid(0, 0);  // a Ctrl-C at the server's terminal is the server's to handle
    // SIGHUP: one graceful stop however often it arrives (the kernel may send it once per
    // exiting thread of the server); SIGINTs would add up to the run's "stop at once".
    prctl(PR_SET_PDEATHSIG, SIGHUP);
    if (getppid() != parent) _exit(127);
    if (chdir(dir.c_str()) != 0) _exit(127);
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int n = open("/dev/null", O_RDONLY);
    if (o < 0 || e < 0 || n < 0) _exit(127);
    dup2(n, 0);
    dup2(o, 1);
    dup2(e, 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  if (pid < 0) return fail(fmt::format("cannot start the run: fork: {}", std::strerror(errno)));
  std::lock_guard<std::mutex> lock(mu_);
  running_[run.id] = Child{pid, dir, false, false, alert_key};
}

bool RunManager::AlertKeyMatches(int64_t id, const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = running_.find(id);
  if (it == running_.end() || it->second.alert_key.empty() || key.size() != it->second.alert_key.size()) return false;
  unsigned diff = 0;  // the whole key compared: no early exit
  for (size_t i = 0; i < key.size(); ++i) diff |= static_cast<unsigned>(key[i] ^ it->second.alert_key[i]);
  return diff == 0;
}

void RunManager::Reap() {
  std::vector<std::tuple<int64_t, Child, int>> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, child] : running_) {
      int status = 0;
      if (!child.exited && waitpid(child.pid, &status, WNOHANG) == child.pid) {
        // It stays listed (its partial results readable) until Finish has stored the whole:
        // a reader who saw it running always finds either one or the other.
        child.exited = true;
        done.emplace_back(id, child, status);
      }
    }
  }
  for (auto& [id, child, status] : done) {
    if (WIFEXITED(status))
      Finish(id, child, WEXITSTATUS(status), "");
    else
      Finish(id, child, -1,
             fmt::format("the run's process was killed by signal {}", WIFSIGNALED(status) ? WTERMSIG(status) : 0));
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(id);
  }
}

void RunManager::Finish(int64_t id, const Child& child, int exit_code, const std::string& failure) {
  auto got = store_.GetRun(id);
  if (!got.ok() || !got->has_value()) return;
  RunRecord run = **got;
  run.finished = UnixNow();
  run.exit_code = exit_code;
  std::optional<RunResults> results = ReadRunResults(child.dir);
  std::string stderr_tail = ReadTail(child.dir + "/stderr.txt", 2000);
  if (!failure.empty()) {
    run.status = "error";
    run.message = failure;
  } else if (exit_code == 0) {
    run.status = "passed";
  } else if (exit_code == 99) {
    run.status = "failed";
    std::string failed;
    if (results.has_value()) {
      for (const ThresholdOutcome& t : results->thresholds) {
        if (!t.ok)
          failed += fmt::format("{}{} {} (observed {:.4g})", failed.empty() ? "" : "; ", t.key, t.expr, t.observed);
      }
    }
    run.message = failed.empty() ? "thresholds failed" : "thresholds failed: " + failed;
  } else if (exit_code == 105) {
    run.status = "aborted";
    run.message = child.abort_requested ? "aborted on request" : "aborted: the run was interrupted";
  } else {
    run.status = "error";
    run.message = stderr_tail.empty() ? fmt::format("the run exited with code {}", exit_code) : stderr_tail;
  }
  if (stopping_ && run.status == "aborted") run.message = "aborted: the server was stopped";
  if (results.has_value()) FillHeadline(*results, &run);
  if (finished_) finished_(run, results.has_value() ? &*results : nullptr);
  (void)store_.FinishRun(run, results.has_value() ? DumpJson(ResultsJson(*results)) : "");
  std::error_code ec;
  fs::remove_all(child.dir, ec);
}

bool RunManager::Abort(int64_t id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = running_.find(id);
    if (it != running_.end()) {
      if (it->second.exited) return false;  // ended; its pid may be another process's now
      it->second.abort_requested = true;
      kill(it->second.pid, SIGINT);
      return true;
    }
  }
  auto got = store_.GetRun(id);
  if (!got.ok() || !got->has_value() || (*got)->status != "queued") return false;
  RunRecord run = **got;
  run.status = "aborted";
  run.finished = UnixNow();
  run.message = "aborted before it started";
  if (finished_) finished_(run, nullptr);
  (void)store_.FinishRun(run, "");
  return true;
}

std::optional<RunResults> RunManager::Partial(int64_t id) {
  std::string dir;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = running_.find(id);
    if (it == running_.end()) return std::nullopt;
    dir = it->second.dir;
  }
  if (!fs::exists(dir + "/results.ndjson")) return std::nullopt;
  auto r = ReadResultsFile(dir + "/results.ndjson");
  if (!r.ok() || r->series.empty()) return std::nullopt;
  return std::move(r).value();
}

std::optional<nlohmann::json> RunManager::Snapshot(int64_t id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_.count(id) == 0) return std::nullopt;
  }
  nlohmann::json j = {{"elapsed_s", 0}, {"reqs", 0}, {"failed", 0}, {"iterations", 0},
                      {"vus", 0},       {"rate", 0}, {"p95_ms", 0}, {"series", nlohmann::json::array()}};
  std::optional<RunResults> r = Partial(id);
  if (!r.has_value()) return j;
  RequestTotals all = TotalsOf(*r);
  const SeriesPoint& last = r->series.back();
  j["elapsed_s"] = last.t;
  j["reqs"] = all.reqs;
  j["failed"] = all.failed;
  int64_t iterations = 0;
  for (const SeriesPoint& p : r->series) iterations += p.iterations;
  j["iterations"] = iterations;
  j["vus"] = last.vus;
  j["rate"] = last.dur > 0 ? static_cast<double>(last.all.reqs) / last.dur : 0;
  j["p95_ms"] = last.all.p95;
  for (const SeriesPoint& p : r->series) j["series"].push_back(PointJson(p));
  return j;
}

void RunManager::Shutdown() {
  std::map<int64_t, Child> running;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    running.swap(running_);
  }
  for (auto& [id, child] : running) kill(child.pid, SIGINT);
  for (auto& [id, child] : running) {
    // A run writes its outputs on SIGINT; one that does not within 30 s is killed.
    int status = 0;
    for (int i = 0; i < 300 && waitpid(child.pid, &status, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (waitpid(child.pid, &status, WNOHANG) == 0) {
      kill(child.pid, SIGKILL);
      waitpid(child.pid, &status, 0);
    }
    child.abort_requested = true;
    Finish(id, child, WIFEXITED(status) ? WEXITSTATUS(status) : 105, "");
  }
}

}  // namespace loadcell
