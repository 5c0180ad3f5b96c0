#include "results/run_results.h"

#include <unistd.h>

#include <array>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "engine/run_coordinator.h"
#include "scenario/definition.h"

namespace loadcell {
namespace {

std::string Sha256OfFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string data = ss.str();
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) return "";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

}  // namespace

// The tags `tag_from` gives requests (which instance answered), in steps at any depth.
void InstanceTags(const Steps& steps, std::set<std::string>* out) {
  for (const Step& step : steps) {
    if (const auto* r = std::get_if<RequestStep>(&step.body)) {
      if (r->tag_from.has_value()) out->insert(r->tag_from->as);
    }
    ForEachInnerSteps(step, [&](const Steps& inner, const std::string*) { InstanceTags(inner, out); });
  }
}

RunMeta MakeRunMeta(const TestDefinition& def, uint64_t seed, const std::string& command_line) {
  RunMeta m;
  m.test = def.name.empty() ? def.file : def.name;
  m.file = def.file;
  m.file_sha256 = Sha256OfFile(def.file);
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) == 0) m.host = host.data();
  m.command_line = command_line;
  m.seed = seed;
  std::set<std::string> tags;
  for (const ScenarioDef& sc : def.scenarios) {
    Nanos length = sc.duration;
    if (sc.executor == ExecutorKind::kRampingVus || sc.executor == ExecutorKind::kRampingArrivalRate) {
      length = 0;
      for (const Stage& st : sc.stages) length += st.duration;
    } else if (sc.executor == ExecutorKind::kPerVuIterations || sc.executor == ExecutorKind::kSharedIterations) {
      length = sc.max_duration;
    }
    m.scenarios.push_back({sc.name, ExecutorName(sc.executor), static_cast<double>(sc.start_time + length) / 1e9});
    for (const auto& [k, _] : sc.tags) tags.insert(k);
  }
  std::set<std::string> instances;
  for (const ScenarioDef& sc : def.scenarios) {
    InstanceTags(sc.init, &instances);
    InstanceTags(sc.flow, &instances);
  }
  tags.insert(instances.begin(), instances.end());
  m.tag_keys.assign(tags.begin(), tags.end());
  m.instance_tags.assign(instances.begin(), instances.end());
  for (const ThresholdDef& t : def.thresholds) {
    for (const ThresholdExpr& e : t.exprs) m.declared_thresholds.push_back(SpecOf(t, e));
  }
  m.strict_thresholds = def.strict_thresholds;
  return m;
}

RunResults MakeRunResults(RunMeta meta, TestResult&& r, std::vector<ThresholdOutcome> thresholds) {
  RunResults out;
  out.meta = std::move(meta);
  out.meta.start_unix = r.start_wall;
  out.meta.end_unix = r.end_wall;
  out.meta.duration_s = r.duration_s;
  out.meta.interrupted = r.interrupted;
  out.meta.aborted_by = r.aborted_by;
  out.meta.vus_max = r.vus_max;
  out.meta.interrupted_iterations = r.interrupted_iterations;
  out.thresholds = std::move(thresholds);
  out.store = std::move(r.store);
  out.series = std::move(r.series);
  out.messages = std::move(r.messages);
  return out;
}

RequestTotals TotalsOf(const RunResults& r, const Tags& filter) {
  SeriesAggregate reqs = r.store.Select("http_reqs", filter);
  SeriesAggregate dur = r.store.Select("http_req_duration", filter);
  SeriesAggregate failed = r.store.Select("http_req_failed", filter);
  RequestTotals t;
  t.reqs = reqs.count;
  t.failed = failed.passes;
  t.rate = r.meta.duration_s > 0 ? static_cast<double>(reqs.count) / r.meta.duration_s : 0;
  t.failed_rate = failed.count ? static_cast<double>(failed.passes) / static_cast<double>(failed.count) : 0;
  t.latency = StatsOf(dur.trend.get(), reqs.count, failed.passes);
  t.has_latency = dur.trend && !dur.trend->empty();
  return t;
}

bool Passed(const RunResults& r) {
  if (!r.meta.aborted_by.empty()) return false;
  if (!r.meta.complete) return false;  // a run cut short never shows a pass it could not judge
  for (const ThresholdOutcome& o : r.thresholds) {
    if (o.fails_run()) return false;  // warning and info thresholds are reported, not failed on
  }
  return true;
}

std::vector<BreakdownRow> Breakdowns(const RunResults& r) {
  std::vector<BreakdownRow> rows;
  auto add = [&](const std::string& tag, const std::string& value) {
    BreakdownRow row;
    static_cast<RequestTotals&>(row) = TotalsOf(r, {{tag, value}});
    row.tag = tag;
    row.value = value;
    rows.push_back(std::move(row));
  };
  for (const std::string& n : r.store.TagValues("http_reqs", "name")) add("name", n);
  if (r.meta.scenarios.size() > 1) {
    for (const ScenarioInfo& sc : r.meta.scenarios) add("scenario", sc.name);
  }
  for (const std::string& tag : r.meta.tag_keys) {
    for (const std::string& v : r.store.TagValues("http_reqs", tag)) add(tag, v);
  }
  return rows;
}

std::vector<CheckRow> Checks(const RunResults& r) {
  std::vector<CheckRow> rows;
  for (const std::string& label : r.store.TagValues("checks", "check")) {
    SeriesAggregate c = r.store.Select("checks", {{"check", label}});
    rows.push_back({label, c.passes, c.count - c.passes});
  }
  return rows;
}

int RunExitCode(const RunResults& r) {
  if (r.meta.interrupted) return 105;
  // One generator's share: its thresholds are shown, but they are about the whole test,
  // judged on the merged result (`loadcell merge`).
  if (!r.meta.segment.empty()) return r.meta.aborted_by.empty() ? 0 : 99;
  return Passed(r) ? 0 : 99;
}

}  // namespace loadcell
