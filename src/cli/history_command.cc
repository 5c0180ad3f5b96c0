// `loadcell history --db FILE.db [--test NAME] [--metric p95] [--json F]`: the runs recorded
// with `run --history`, oldest first, per test, with change points marked.
#include <cstdio>
#include <map>

#include <fmt/format.h>

#include "analysis/change_points.h"
#include "cli/commands.h"
#include "history/history_db.h"
#include "output/export.h"
#include "output/results_file.h"

namespace loadcell {
namespace {

double MetricOf(const HistoryRow& r, const std::string& m) {
  if (m == "p50") return r.p50_ms;
  if (m == "p99") return r.p99_ms;
  if (m == "rate") return r.rate;
  if (m == "error_rate") return r.error_rate;
  return r.p95_ms;
}

}  // namespace

void AddHistoryOptions(CLI::App& cmd, HistoryArgs& a) {
  cmd.add_option("--db", a.db, "History database written by run --history")->required();
  cmd.add_option("--test", a.test, "Only this test (its name)");
  cmd.add_option("--metric", a.metric, "Series for change points: p50, p95, p99, rate, error_rate")
      ->check(CLI::IsMember({"p50", "p95", "p99", "rate", "error_rate"}));
  cmd.add_option("--json", a.json, "Write runs and change points as JSON here");
}

int RunHistoryCommand(const HistoryArgs& a) {
  if (FILE* f = std::fopen(a.db.c_str(), "rb")) {
    std::fclose(f);
  } else {
    std::fprintf(stderr, "loadcell: --db %s: no such history (run with --history %s first)\n", a.db.c_str(),
                 a.db.c_str());
    return kExitFailure;
  }
  auto db = HistoryDb::Open(a.db);
  if (!db.ok()) {
    std::fprintf(stderr, "loadcell: %s\n", db.error().message.c_str());
    return kExitFailure;
  }
  auto rows = (*db)->Runs(a.test);
  if (!rows.ok()) {
    std::fprintf(stderr, "loadcell: %s\n", rows.error().message.c_str());
    return kExitFailure;
  }
  std::map<std::string, std::vector<HistoryRow>> by_test;
  for (const HistoryRow& r : *rows) by_test[r.test].push_back(r);
  nlohmann::json out = nlohmann::json::array();
  std::string text;
  for (const auto& [test, runs] : by_test) {
    std::vector<double> series;
    for (const HistoryRow& r : runs) series.push_back(MetricOf(r, a.metric));
    std::vector<ChangePoint> changes = EDivisive(series);
    std::map<size_t, const ChangePoint*> at;
    for (const ChangePoint& c : changes) at[c.index] = &c;
    text += fmt::format("{} — {} runs, change points in {}: {}\n", test, runs.size(), a.metric, changes.size());
    text += fmt::format("  {:>5} {:<24} {:>9} {:>10} {:>10} {:>10} {:>8}  {}\n", "id", "started", "reqs", "rate/s",
                        "p95 ms", "p99 ms", "failed", "");
    nlohmann::json jruns = nlohmann::json::array();
    for (size_t i = 0; i < runs.size(); ++i) {
      const HistoryRow& r = runs[i];
      auto c = at.find(i);
      if (c != at.end()) {
        text += fmt::format("  ◆ change point: {} {:.4g} → {:.4g} ({:+.1f}%, Welch p = {:.2g})\n", a.metric,
                            c->second->before, c->second->after,
                            c->second->before != 0 ? 100 * (c->second->after / c->second->before - 1) : 0.0,
                            c->second->p_value);
      }
      text += fmt::format("  {:>5} {:<24} {:>9} {:>10.1f} {:>10.3f} {:>10.3f} {:>7.2f}%  {}\n", r.id,
                          Iso8601(r.started), r.reqs, r.rate, r.p95_ms, r.p99_ms, 100 * r.error_rate,
                          r.passed ? "passed" : fmt::format("exit {}", r.exit_code));
      jruns.push_back({{"id", r.id},
                       {"started", Iso8601(r.started)},
                       {"reqs", r.reqs},
                       {"rate", r.rate},
                       {"error_rate", r.error_rate},
                       {"p50_ms", r.p50_ms},
                       {"p95_ms", r.p95_ms},
                       {"p99_ms", r.p99_ms},
                       {"passed", r.passed},
                       {"exit_code", r.exit_code},
                       {"file_sha256", r.file_sha256},
                       {"host", r.host}});
    }
    nlohmann::json jchanges = ChangePointsJson(changes, [&](size_t i) { return runs[i].id; });
    out.push_back({{"test", test}, {"metric", a.metric}, {"runs", jruns}, {"change_points", jchanges}});
  }
  if (by_test.empty()) text = a.test.empty() ? "no runs recorded\n" : fmt::format("no runs of test \"{}\"\n", a.test);
  std::fputs(text.c_str(), stdout);
  if (!a.json.empty()) {
    Status s = WriteFile(a.json, DumpJson(out, 2) + "\n");
    if (!s.ok()) {
      std::fprintf(stderr, "loadcell: %s\n", s.error().message.c_str());
      return kExitFailure;
    }
  }
  return kExitOk;
}

}  // namespace loadcell
