#include "cli/run_session.h"

#include <unistd.h>

#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "alerting/alert_notifier.h"
#include "analysis/load_changes.h"
#include "analysis/pipeline.h"
#include "cli/commands.h"
#include "common/units.h"
#include "engine/capacity_run.h"
#include "engine/run_coordinator.h"
#include "engine/threshold_watch.h"
#include "history/history_db.h"
#include "live/live_server.h"
#include "monitor/proc_monitor.h"
#include "monitor/remote_monitor.h"
#include "output/export.h"
#include "output/hlog_writer.h"
#include "output/progress.h"
#include "output/results_file.h"
#include "output/run_summary.h"
#include "report/report.h"

namespace loadcell {
namespace {

// Several observers on the one run.
class Observers : public RunObserver {
 public:
  void Add(RunObserver* o) { list_.push_back(o); }
  void OnStart(double start_wall) override {
    for (RunObserver* o : list_) o->OnStart(start_wall);
  }
  void OnSecond(const SeriesPoint& p, const MetricStore& interval) override {
    for (RunObserver* o : list_) o->OnSecond(p, interval);
  }

 private:
  std::vector<RunObserver*> list_;
};

bool IsNdjson(const std::string& path) { return path.ends_with(".ndjson"); }

}  // namespace

void AddOutputOptions(CLI::App& cmd, OutputArgs& a) {
  cmd.add_option("--summary-export", a.summary_export, "Write the summary (k6 layout) here");
  cmd.add_option("--out", a.out,
                 "Write the results here: .json (at the end) or .ndjson (second by second); repeatable");
  cmd.add_option("--report", a.report, "Write the HTML report here");
  cmd.add_option("--hlog", a.hlog, "Write an HdrHistogram interval log (v1.3) of http_req_duration here");
  cmd.add_option("--history", a.history, "Record this run in a SQLite history (see loadcell history)");
  cmd.add_option("--prometheus", a.prometheus, "Serve /metrics in Prometheus format at HOST:PORT during the run");
  cmd.add_option("--dashboard", a.dashboard, "Serve the live dashboard at HOST:PORT during the run");
  cmd.add_option("--generator", a.generator, "This generator's name: a `generator` label on every /metrics series");
  cmd.add_option(
      "--linger", a.linger,
      "Keep /metrics and the dashboard up this long after the run, for a last scrape and the report (Ctrl-C ends it)");
  auto url = [](const std::string& u) {
    return u.starts_with("http://") || u.starts_with("https://") ? std::string() : "an http:// or https:// URL";
  };
  cmd.add_option("--alertmanager", a.alertmanagers,
                 "Send live threshold alerts to this Alertmanager (its base URL); repeatable")
      ->check(url);
  cmd.add_option("--alert-webhook", a.alert_webhooks,
                 "POST live threshold alerts here (Alertmanager's webhook JSON); repeatable")
      ->check(url);
  cmd.add_flag("-q,--quiet", a.quiet, "No progress display, only the summary");
}

bool CheckOutputArgs(const OutputArgs& a, Nanos* linger) {
  for (const std::string& o : a.out) {
    if (!o.ends_with(".json") && !IsNdjson(o)) {
      std::fprintf(stderr, "loadcell: --out %s: the file name must end in .json or .ndjson\n", o.c_str());
      return false;
    }
  }
  auto d = ParseDuration(a.linger);
  if (!d.ok() || *d < 0) {
    std::fprintf(stderr, "loadcell: --linger: %s\n", d.ok() ? "must not be negative" : d.error().message.c_str());
    return false;
  }
  *linger = *d;
  return true;
}

int RunAndReport(const RunSession& s, const OutputArgs& o) {
  const TestDefinition& tdef = *s.def;
  RunMeta meta = s.meta;
  Observers observers;
  // Outputs that cannot be written are reported by name and do not stop the run: what it
  // measures still reaches the console and the other outputs.
  int code = kExitOk;
  auto report_error = [&code](const Status& st) {
    if (st.ok()) return;
    std::fprintf(stderr, "loadcell: %s\n", st.error().message.c_str());
    if (code == kExitOk) code = kExitFailure;
  };
  {
    std::vector<std::string> at_end = {o.report, o.summary_export, o.history};
    for (const std::string& out : o.out) {
      if (!IsNdjson(out)) at_end.push_back(out);
    }
    for (const std::string& path : at_end) {
      if (path.empty()) continue;
      if (Status st = CheckWritable(path); !st.ok()) {
        std::fprintf(stderr, "loadcell: %s (the run goes on; its summary still reaches the console)\n",
                     st.error().message.c_str());
      }
    }
  }
  std::vector<std::unique_ptr<NdjsonWriter>> streams;
  for (const std::string& out : o.out) {
    if (!IsNdjson(out)) continue;
    auto w = std::make_unique<NdjsonWriter>();
    Status st = w->Open(out, meta);
    report_error(st);
    if (!st.ok()) continue;
    observers.Add(w.get());
    streams.push_back(std::move(w));
  }
  std::unique_ptr<HlogWriter> hlog;
  if (!o.hlog.empty()) {
    hlog = std::make_unique<HlogWriter>();
    Status st = hlog->Open(o.hlog);
    report_error(st);
    if (st.ok())
      observers.Add(hlog.get());
    else
      hlog.reset();
  }
  std::unique_ptr<LiveServer> live;
  if (!o.prometheus.empty() || !o.dashboard.empty()) {
    // Several generators scraped by one Prometheus: each series says which one it is
    // (the segment's number by default), so that sum() gives the live total.
    Tags labels;
    if (!o.generator.empty()) {
      labels["generator"] = o.generator;
    } else if (!s.overrides.segment.whole()) {
      labels["generator"] = std::to_string(s.overrides.segment.index() + 1);
    }
    live = std::make_unique<LiveServer>(LiveServer::Options{o.prometheus, o.dashboard, labels}, meta);
    Status st = live->Start();
    if (!st.ok()) {
      std::fprintf(stderr, "loadcell: %s\n", st.error().message.c_str());
      return st.error().kind == ErrorKind::kInvalidArgument ? kExitBadInput : kExitFailure;
    }
    if (!o.prometheus.empty())
      std::fprintf(stderr, "loadcell: Prometheus metrics at http://%s/metrics\n", o.prometheus.c_str());
    if (!o.dashboard.empty()) std::fprintf(stderr, "loadcell: dashboard at http://%s/\n", o.dashboard.c_str());
    observers.Add(live.get());
  }
  std::unique_ptr<Progress> progress;
  if (!o.quiet) {
    progress = std::make_unique<Progress>(meta, stderr, isatty(STDERR_FILENO) != 0);
    observers.Add(progress.get());
  }
  // Resources: the monitored processes and the host when asked for, the generator always
  // (for the self-check).
  std::vector<ProcessSelector> targets;
  for (int64_t pid : tdef.monitor.pids) targets.push_back({pid, ""});
  for (const std::string& name : tdef.monitor.names) targets.push_back({0, name});
  for (long long pid : s.monitor_pids) targets.push_back({pid, ""});
  const bool monitoring = !targets.empty();
  ProcMonitor monitor(std::move(targets));
  if (monitoring && monitor.Resolve().empty()) {
    std::fprintf(stderr, "loadcell: monitor: no process matches (yet); sampling goes on in case one starts\n");
  }
  // Endpoints to scrape, Prometheus queries and databases' statistics, read on their own
  // thread (a slow one delays nothing else).
  RemoteSources remote_sources;
  auto http_of = [&s](const MonitorHttpDef& d) {
    HttpGetOptions http;
    http.timeout = d.timeout;
    http.bearer_token = d.bearer_token;
    http.basic_user = d.basic_user;
    http.basic_password = d.basic_password;
    http.insecure = d.insecure_tls || s.insecure;
    return http;
  };
  for (const MonitorScrapeDef& d : tdef.monitor.scrapes)
    remote_sources.scrapes.push_back({d.url, d.metrics, http_of(d.http)});
  for (const std::string& url : s.monitor_scrapes) remote_sources.scrapes.push_back({url, {}, http_of({})});
  for (const MonitorPrometheusDef& d : tdef.monitor.prometheus)
    remote_sources.prometheus.push_back({d.url, d.queries, http_of(d.http)});
  for (const MonitorPostgresDef& d : tdef.monitor.postgres) remote_sources.postgres.push_back({d.url, d.statements});
  for (const std::string& url : s.monitor_postgres) remote_sources.postgres.push_back({url, 5});
  RemoteMonitor remote(std::move(remote_sources), tdef.monitor.interval);
  remote.Start();
  ResourceSampler sampler = [&monitor, &remote, monitoring](double now_s) {
    std::map<std::string, double> g = monitor.Sample(now_s);
    if (!monitoring) std::erase_if(g, [](const auto& kv) { return !kv.first.starts_with("generator_"); });
    g.merge(remote.Latest());
    return g;
  };
  // Windows and growth are judged from the run's seconds as they complete.
  std::unique_ptr<ThresholdWatch> watch;
  if (std::any_of(tdef.thresholds.begin(), tdef.thresholds.end(), [](const ThresholdDef& t) {
        return std::any_of(t.exprs.begin(), t.exprs.end(), [](const ThresholdExpr& e) { return e.per_second(); });
      })) {
    watch = std::make_unique<ThresholdWatch>(tdef, false);
    observers.Add(watch.get());
  }
  // Live alerts: thresholds judged on the last seconds, crossings sent while the run goes on.
  std::unique_ptr<AlertNotifier> alerts;
  std::vector<std::string> alert_notes;
  {
    AlertTargets at;
    at.alertmanagers = tdef.alerting.alertmanagers;
    at.alertmanagers.insert(at.alertmanagers.end(), o.alertmanagers.begin(), o.alertmanagers.end());
    at.webhooks = tdef.alerting.webhooks;
    at.webhooks.insert(at.webhooks.end(), o.alert_webhooks.begin(), o.alert_webhooks.end());
    at.labels = tdef.alerting.labels;
    if (!o.generator.empty()) at.labels["generator"] = o.generator;
    at.http.insecure = s.insecure;
    if (at.alertmanagers.empty() && at.webhooks.empty() && tdef.has_alerting) {
      alert_notes.push_back(
          "alerts: `alerting` names no receiver (alertmanager, webhooks, or run --alertmanager/--alert-webhook): "
          "no alert was sent");
    } else if (!at.alertmanagers.empty() || !at.webhooks.empty()) {
      if (tdef.thresholds.empty()) {
        alert_notes.push_back("alerts: this test has no thresholds, so there is nothing to alert on");
      } else {
        alerts = std::make_unique<AlertNotifier>(tdef, std::move(at));
        observers.Add(alerts.get());
      }
    }
  }
  const bool capacity = s.plan == nullptr;
  TestResult result;
  std::optional<CapacityReport> capacity_report;
  std::vector<ThresholdOutcome> capacity_outcomes;
  if (capacity) {
    auto run = RunCapacitySearch(tdef, {s.threads, s.seed, s.insecure, &observers, sampler}, g_interrupted, &g_signals);
    if (!run.ok()) {
      std::fprintf(stderr, "loadcell: %s\n", run.error().message.c_str());
      return run.error().kind == ErrorKind::kInvalidArgument ? kExitBadInput : kExitFailure;
    }
    CapacityRun done = std::move(run).value();
    result = std::move(done.result);
    capacity_report = std::move(done.capacity);
    capacity_outcomes = std::move(done.outcomes);
  } else {
    result = RunTest(*s.plan, g_interrupted, &g_signals, &observers, sampler);
  }
  const std::string failure = result.failure;
  RunResults results = MakeRunResults(std::move(meta), std::move(result), {});
  for (std::string& note : remote.TakeNotes()) results.messages.push_back(std::move(note));
  if (alerts) {
    alerts->Finish(5 * kSecond);
    alert_notes = alerts->TakeNotes();
  }
  for (std::string& note : alert_notes) results.messages.push_back(std::move(note));
  results.capacity = std::move(capacity_report);
  AnalysisInputs analysis;
  analysis.thresholds = &tdef;
  if (watch) analysis.per_second = watch->Judge();
  if (capacity) analysis.judged = std::move(capacity_outcomes);
  analysis.faults = tdef.faults;
  analysis.load_changes = LoadChangesOf(tdef);
  analysis.reaction_gauges = tdef.monitor.reactions;
  analysis.apdex_t_ms = static_cast<double>(s.apdex_t) / 1e6;
  analysis.soak = monitoring;
  analysis.threads = s.threads;
  analysis.overload_expected = capacity;
  if (s.usl) analysis.usl = &tdef;
  Analyze(results, analysis);
  if (!results.meta.segment.empty()) {
    results.messages.push_back(fmt::format(
        "segment {} of {}: this is one generator's share; the thresholds are about the whole test, so they do not "
        "set this run's exit code: `loadcell merge` judges them on all the parts",
        results.meta.segment, results.meta.segments));
  }
  std::fputs(s.summary(results).c_str(), stdout);
  std::fflush(stdout);
  for (auto& w : streams) report_error(w->Finish(results));
  if (hlog) report_error(hlog->Finish());
  for (const std::string& out : o.out) {
    if (!IsNdjson(out)) report_error(WriteFile(out, DumpJson(ResultsJson(results), 1) + "\n"));
  }
  if (!o.report.empty()) report_error(WriteFile(o.report, HtmlReport(results)));
  if (!o.summary_export.empty())
    report_error(WriteFile(o.summary_export, DumpJson(TestSummaryExport(results), 2) + "\n"));
  if (live) {
    live->Finish(results);
    if (s.linger > 0 && !g_interrupted.load()) {
      std::fprintf(stderr, "loadcell: /metrics and the dashboard stay up for %s (Ctrl-C ends it)\n",
                   FormatDuration(s.linger).c_str());
      // The run is over and its outcome stands: a Ctrl-C now only ends the wait.
      live->Linger(static_cast<double>(s.linger) / 1e9, g_interrupted);
    }
    live->Stop();
  }
  int run_code = RunExitCode(results);
  if (!failure.empty()) {
    std::fprintf(stderr, "loadcell: %s\n", failure.c_str());
    if (run_code == kExitOk || run_code == 99) run_code = kExitFailure;
  }
  if (!o.history.empty()) {
    auto db = HistoryDb::Open(o.history);
    if (!db.ok()) {
      report_error(db.error());
    } else {
      auto id = (*db)->Record(results, run_code);
      if (!id.ok()) report_error(id.error());
    }
  }
  return run_code != kExitOk ? run_code : code;
}

}  // namespace loadcell
