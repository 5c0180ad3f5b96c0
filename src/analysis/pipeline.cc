#include "analysis/pipeline.h"

#include "analysis/load_changes.h"

#include <fmt/format.h>

#include "analysis/fault_report.h"
#include "analysis/findings.h"
#include "analysis/self_check.h"
#include "analysis/soak.h"
#include "analysis/usl_sweep.h"
#include "scenario/threshold_eval.h"

namespace loadcell {
namespace {

// The target's RSS second by second (monitor:), its slope and whether it looks like a leak:
// two gauges thresholds can name, and a line for the notes.
std::string AnalyzeTargetMemory(RunResults& r) {
  std::vector<double> t, rss;
  double elapsed = 0, limit = 0;
  for (const SeriesPoint& pt : r.series) {
    elapsed += pt.dur;
    auto it = pt.resources.find("target_rss");
    if (it == pt.resources.end() || pt.dur < 0.5) continue;  // a last partial second has no sample of its own
    t.push_back(elapsed);
    rss.push_back(it->second);
    auto total = pt.resources.find("host_memory_total");
    if (total != pt.resources.end()) limit = total->second;
  }
  SoakFinding soak = AnalyzeSoak(t, rss, limit);
  if (soak.enough) {
    r.store.Gauge("target_rss_growth_mb_per_h", {}, soak.slope_mb_per_h);
    r.store.Gauge("target_leak_suspected", {}, soak.leak_suspected ? 1 : 0);
  }
  return soak.message;
}

}  // namespace

void Analyze(RunResults& r, const AnalysisInputs& in) {
  std::string soak;
  if (in.soak) soak = AnalyzeTargetMemory(r);
  if (in.judged.has_value()) {
    r.thresholds = *in.judged;
  } else if (in.thresholds != nullptr) {
    r.thresholds = EvaluateThresholds(*in.thresholds, r.store, r.meta.duration_s, in.per_second);
  }
  if (in.threads > 0) {
    for (std::string& m : SelfCheckTest(r.store, r.meta.duration_s, in.threads, in.overload_expected)) {
      r.messages.push_back(std::move(m));
    }
  }
  if (in.soak) r.messages.push_back(soak);
  if (in.usl != nullptr) {
    auto sweep = SweepFromRun(*in.usl, r);
    if (sweep.ok()) {
      r.usl = UslSweepJson(*sweep);
      for (const std::string& n : sweep->notes) r.messages.push_back(n);
    } else {
      r.messages.push_back(sweep.error().message);
    }
  }
  r.faults = AnalyzeFaults(in.faults, r.series);
  r.load_changes = in.load_changes;
  AnalyzeLoadChanges(r.load_changes, in.reaction_gauges, r.series);
  r.findings = FindBottlenecks(r);
  r.apdex_t_ms = in.apdex_t_ms;
  r.apdex = ApdexByName(r, in.apdex_t_ms);
}

Result<std::vector<FaultDef>> FaultDefsOf(const std::vector<FaultReport>& reports) {
  std::vector<FaultDef> defs;
  for (const FaultReport& f : reports) {
    FaultDef d;
    if (f.kind == "latency") {
      d.kind = FaultDef::Kind::kLatency;
    } else if (f.kind == "reset") {
      d.kind = FaultDef::Kind::kReset;
    } else if (f.kind == "bandwidth") {
      d.kind = FaultDef::Kind::kBandwidth;
    } else if (f.kind == "blackhole") {
      d.kind = FaultDef::Kind::kBlackhole;
    } else {
      return Error::InvalidArgument(fmt::format(
          "fault at {}s: unknown kind `{}` (expected latency, reset, bandwidth or blackhole)", f.at_s, f.kind));
    }
    d.at = static_cast<Nanos>(f.at_s * 1e9);
    d.duration = static_cast<Nanos>(f.duration_s * 1e9);
    d.scenario = f.scenario;
    defs.push_back(d);
  }
  return defs;
}

}  // namespace loadcell
