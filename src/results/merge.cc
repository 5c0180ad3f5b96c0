#include "results/merge.h"

#include "engine/threshold_watch.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "load/execution_segment.h"
#include "scenario/definition.h"
#include "scenario/loader.h"
#include "scenario/threshold.h"

namespace loadcell {
namespace {

// The parts are one sequence's segments, each once: sorted by their place in it.
Status CheckSegments(std::vector<MergePart>& parts) {
  const RunMeta& first = parts[0].results.meta;
  for (const MergePart& p : parts) {
    if (p.results.meta.file_sha256 != first.file_sha256) {
      return Error::InvalidArgument(fmt::format("{}: a different test file than {} (sha256 {}… vs {}…)", p.name,
                                                parts[0].name, p.results.meta.file_sha256.substr(0, 12),
                                                first.file_sha256.substr(0, 12)));
    }
  }
  const bool segmented =
      std::any_of(parts.begin(), parts.end(), [](const MergePart& p) { return !p.results.meta.segment.empty(); });
  if (parts.size() == 1 && !segmented) return Status::Ok();  // a whole run: nothing to check
  std::vector<std::pair<size_t, size_t>> order;              // (segment index, part)
  size_t count = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const RunMeta& m = parts[i].results.meta;
    if (m.segment.empty()) {
      return Error::InvalidArgument(
          fmt::format("{}: not a segment of a test (run it with --segment K/N): merged with "
                      "other parts it would count the test twice",
                      parts[i].name));
    }
    if (m.segments != first.segments && !first.segment.empty()) {
      return Error::InvalidArgument(fmt::format("{}: a segment of the sequence {}, but {} is of {}", parts[i].name,
                                                m.segments, parts[0].name, first.segments));
    }
    auto seg = ExecutionSegment::FromArgs(m.segment, m.segments, 0);
    if (!seg.ok())
      return Error::InvalidArgument(fmt::format("{}: segment {}: {}", parts[i].name, m.segment, seg.error().message));
    count = seg->count();
    for (const auto& [index, other] : order) {
      if (index == seg->index()) {
        return Error::InvalidArgument(
            fmt::format("{} and {} are the same segment ({}): each generator's part is merged once", parts[other].name,
                        parts[i].name, m.segment));
      }
    }
    order.emplace_back(seg->index(), i);
  }
  if (order.size() != count) {
    std::set<size_t> have;
    for (const auto& o : order) have.insert(o.first);
    std::string missing;
    for (size_t k = 0; k < count; ++k) {
      if (have.contains(k)) continue;
      auto s = ExecutionSegment::FromArgs("", first.segments, static_cast<int>(k + 1));
      missing += fmt::format("{}{} ({}/{})", missing.empty() ? "" : ", ", s.ok() ? s->ToString() : "?", k + 1, count);
    }
    return Error::InvalidArgument(
        fmt::format("missing part{} of {}: {}; the merged result must hold every generator's "
                    "share",
                    count - order.size() > 1 ? "s" : "", first.segments, missing));
  }
  std::sort(order.begin(), order.end());
  std::vector<MergePart> sorted;
  for (const auto& o : order) sorted.push_back(std::move(parts[o.second]));
  parts = std::move(sorted);
  return Status::Ok();
}

RunMeta MergedMeta(const std::vector<MergePart>& parts) {
  RunMeta m = parts[0].results.meta;
  std::set<std::string> hosts, tag_keys;
  std::string host_list;
  for (const MergePart& p : parts) {
    const RunMeta& pm = p.results.meta;
    m.start_unix = std::min(m.start_unix, pm.start_unix);
    m.end_unix = std::max(m.end_unix, pm.end_unix);
    if (hosts.insert(pm.host).second) host_list += (host_list.empty() ? "" : ", ") + pm.host;
    tag_keys.insert(pm.tag_keys.begin(), pm.tag_keys.end());
    if (&p != &parts[0]) {
      m.interrupted |= pm.interrupted;
      m.vus_max += pm.vus_max;
      m.interrupted_iterations += pm.interrupted_iterations;
      m.complete &= pm.complete;
      if (m.aborted_by.empty()) m.aborted_by = pm.aborted_by;
      for (size_t s = 0; s < m.scenarios.size() && s < pm.scenarios.size(); ++s) {
        m.scenarios[s].planned_s = std::max(m.scenarios[s].planned_s, pm.scenarios[s].planned_s);
      }
    }
    m.parts.push_back(pm.segment.empty() ? p.name : fmt::format("{} (segment {}, {})", p.name, pm.segment, pm.host));
  }
  m.host = host_list;
  m.duration_s = m.end_unix - m.start_unix;
  m.tag_keys.assign(tag_keys.begin(), tag_keys.end());
  m.segment.clear();
  m.segments.clear();
  return m;
}

// Aligned by wall-clock second: a part that started 2 s after the first adds its second 1
// to the merged second 3.
// `stores`: the merged seconds' own stores, when every part has them.
std::vector<SeriesPoint> MergedSeries(const std::vector<MergePart>& parts, double start_unix,
                                      std::map<int64_t, MetricStore>& stores) {
  std::map<int64_t, SeriesPoint> points;
  const bool exact = std::all_of(parts.begin(), parts.end(), [](const MergePart& p) { return !p.seconds.empty(); });
  for (const MergePart& p : parts) {
    const int64_t offset = std::llround(p.results.meta.start_unix - start_unix);
    for (const SeriesPoint& pt : p.results.series) {
      auto [it, fresh] = points.try_emplace(pt.t + offset, pt);
      if (fresh) {
        it->second.t = pt.t + offset;
      } else {
        AddConcurrent(it->second, pt);
      }
    }
    if (exact) {
      for (const auto& [t, store] : p.seconds) stores[t + offset].Merge(store);
    }
  }
  std::vector<SeriesPoint> series;
  for (auto& [t, p] : points) {
    if (auto s = stores.find(t); s != stores.end()) {
      // The second's histograms of every generator, added: exact percentiles.
      SeriesPoint e = MakePoint(t, p.dur, p.vus, s->second);
      p.all = e.all;
      p.by_name = e.by_name;
    }
    series.push_back(std::move(p));
  }
  return series;
}

// The test's thresholds, as the parts recorded them (key and expression as written).
Result<TestDefinition> ThresholdsOf(const std::vector<MergePart>& parts) {
  TestDefinition def;
  for (const MergePart& p : parts) {
    if (p.results.thresholds.empty()) continue;
    for (const ThresholdOutcome& o : p.results.thresholds) {
      auto it = std::find_if(def.thresholds.begin(), def.thresholds.end(),
                             [&](const ThresholdDef& t) { return t.key == o.key; });
      if (it == def.thresholds.end()) {
        auto sel = ParseMetricSelector(o.key);
        if (!sel.ok())
          return Error::InvalidArgument(fmt::format("{}: threshold {}: {}", p.name, o.key, sel.error().message));
        ThresholdDef t;
        t.key = o.key;
        t.selector = *sel;
        t.counter = IsCounterMetric(sel->metric);
        def.thresholds.push_back(std::move(t));
        it = def.thresholds.end() - 1;
      }
      if (o.no_data && !o.ok && o.severity == Severity::kCritical) {
        def.strict_thresholds = true;  // the part was run with --strict-thresholds
      }
      auto e = ExprOf(o);
      if (!e.ok())
        return Error::InvalidArgument(fmt::format("{}: threshold {}: {}", p.name, o.expr, e.error().message));
      it->exprs.push_back(*e);
    }
    break;  // every part of one test has the same thresholds: the first that has them
  }
  return def;
}

bool IsShareNote(const std::string& m) {
  return m.starts_with("segment ") && m.find("one generator's share") != std::string::npos;
}

}  // namespace

Result<MergedRun> MergeParts(std::vector<MergePart> parts, bool strict) {
  if (parts.empty()) return Error::InvalidArgument("nothing to merge");
  if (Status s = CheckSegments(parts); !s.ok()) return s.error();
  auto thresholds = ThresholdsOf(parts);
  if (!thresholds.ok()) return thresholds.error();
  TestDefinition judged = std::move(thresholds).value();
  judged.strict_thresholds |= strict;
  RunResults r;
  r.meta = MergedMeta(parts);
  for (const MergePart& p : parts) r.store.Merge(p.results.store);
  std::map<int64_t, MetricStore> stores;
  r.series = MergedSeries(parts, r.meta.start_unix, stores);
  if (r.store.Has("vus")) {
    // Each part's `vus` gauge is its own generator's: the whole test's is their sum, second
    // by second.
    r.store.Erase("vus");
    for (const SeriesPoint& p : r.series) r.store.Gauge("vus", {}, p.vus);
  }
  r.messages.push_back(fmt::format(
      "merged from {} part{}{}: thresholds evaluated on the whole test's metrics", parts.size(),
      parts.size() == 1 ? "" : "s",
      parts[0].results.meta.segments.empty() ? "" : " (segments of " + parts[0].results.meta.segments + ")"));
  for (const MergePart& p : parts) {
    if (!p.results.meta.complete) {
      r.messages.push_back(
          fmt::format("{} ended without its final record (killed?): it adds the seconds it recorded", p.name));
    }
    for (const std::string& m : p.results.messages) {
      if (IsShareNote(m)) continue;
      r.messages.push_back(p.results.meta.segment.empty() ? m
                                                          : fmt::format("[segment {}] {}", p.results.meta.segment, m));
    }
  }
  // Windows and growth: the merged seconds replayed through a watch, as during a run.
  ThresholdJudge per_second;
  const bool windows = std::any_of(judged.thresholds.begin(), judged.thresholds.end(), [](const ThresholdDef& t) {
    return std::any_of(t.exprs.begin(), t.exprs.end(), [](const ThresholdExpr& e) { return e.per_second(); });
  });
  if (windows && !stores.empty()) {
    ThresholdWatch watch(judged, false);
    const MetricStore none;
    for (const SeriesPoint& p : r.series) {
      auto st = stores.find(p.t);
      watch.OnSecond(p, st != stores.end() ? st->second : none);
    }
    std::map<std::pair<size_t, size_t>, double> values;
    for (size_t i = 0; i < judged.thresholds.size(); ++i) {
      for (size_t j = 0; j < judged.thresholds[i].exprs.size(); ++j) {
        double v = 0;
        if (watch.Observed(i, j, &v)) values[{i, j}] = v;
      }
    }
    per_second = [values](size_t i, size_t j, double* v) {
      auto it = values.find({i, j});
      if (it == values.end()) return false;
      *v = it->second;
      return true;
    };
  } else if (windows) {
    r.messages.push_back(
        "thresholds with `during` or `growth` are judged from the seconds' own records: merge .ndjson parts "
        "(run --out x.ndjson) to judge them; from .json parts they have no data");
  }
  r.apdex_t_ms = parts[0].results.apdex_t_ms;
  r.faults = parts[0].results.faults;              // the test's faults: `merge` judges them again on the merged series
  r.load_changes = parts[0].results.load_changes;  // likewise the load changes
  return MergedRun{std::move(r), std::move(judged), std::move(per_second)};
}

}  // namespace loadcell
