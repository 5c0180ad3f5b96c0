#include "analysis/compare.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "analysis/stats.h"

namespace loadcell {
namespace {

constexpr int kMinWindows = 5;

struct Windows {
  std::vector<double> p50, p95, p99, rate, error_rate;
};

// The per-second samples of one request name ("" = all). A last partial second is left
// out (its rate is noise); latency windows need a response in that second.
Windows WindowsOf(const RunResults& r, const std::string& name) {
  Windows w;
  for (const SeriesPoint& p : r.series) {
    if (p.dur < 0.5) continue;
    const SeriesStats* s = &p.all;
    SeriesStats none;
    if (!name.empty()) {
      auto it = p.by_name.find(name);
      s = it == p.by_name.end() ? &none : &it->second;
    }
    w.rate.push_back(static_cast<double>(s->reqs) / p.dur);
    if (s->reqs == 0) continue;
    w.error_rate.push_back(static_cast<double>(s->failed) / static_cast<double>(s->reqs));
    if (s->reqs > s->failed || s->p95 > 0) {
      w.p50.push_back(s->p50);
      w.p95.push_back(s->p95);
      w.p99.push_back(s->p99);
    }
  }
  return w;
}

struct Headline {
  double p50 = 0, p95 = 0, p99 = 0, rate = 0, error_rate = 0;
};

Headline HeadlineOf(const RunResults& r, const std::string& name) {
  Tags filter;
  if (!name.empty()) filter["name"] = name;
  RequestTotals t = TotalsOf(r, filter);
  return {t.latency.p50, t.latency.p95, t.latency.p99, t.rate, t.failed_rate};
}

double MedianRatio(const std::vector<double>& base, const std::vector<double>& cur) {
  double b = Median(base);
  return b > 0 ? Median(cur) / b : (Median(cur) > 0 ? INFINITY : 1.0);
}

double MeanDiff(const std::vector<double>& base, const std::vector<double>& cur) {
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0 : s / static_cast<double>(v.size());
  };
  return mean(cur) - mean(base);
}

}  // namespace

MetricComparison CompareMetric(const std::string& request, const std::string& metric, double base, double cur,
                               const std::vector<double>& wb, const std::vector<double>& wc, bool higher_is_worse,
                               bool absolute, const CompareOptions& o) {
  MetricComparison m;
  m.request = request;
  m.metric = metric;
  m.baseline = base;
  m.current = cur;
  m.windows_baseline = static_cast<int>(wb.size());
  m.windows_current = static_cast<int>(wc.size());
  m.change = absolute ? cur - base : (base > 0 ? cur / base - 1 : 0);
  if (wb.size() < kMinWindows || wc.size() < kMinWindows) {
    m.verdict = Verdict::kInsufficient;
    return m;
  }
  m.p_value = MannWhitneyU(wc, wb).p_value;
  Interval ci = BootstrapInterval(wb, wc, absolute ? MeanDiff : MedianRatio);
  m.ci_low = ci.low;
  m.ci_high = ci.high;
  // The size of the change is judged on the windows too (the statistic the interval is
  // about), not on the headline: a whole-run p99 can be made by two slow seconds, and a
  // gate that fails on them fails on noise.
  m.window_change = absolute ? MeanDiff(wb, wc) : MedianRatio(wb, wc) - 1;
  const double none = absolute ? 0.0 : 1.0;
  const double allowed = absolute ? o.max_error_increase : o.max_regression;
  bool significant = m.p_value < o.alpha;
  bool up = significant && ci.low > none && m.window_change > allowed;
  bool down = significant && ci.high < none && m.window_change < -allowed;
  if (higher_is_worse) {
    m.verdict = up ? Verdict::kWorse : down ? Verdict::kBetter : Verdict::kSame;
  } else {
    m.verdict = down ? Verdict::kWorse : up ? Verdict::kBetter : Verdict::kSame;
  }
  return m;
}

namespace {

std::string Pct(double change) { return fmt::format("{:+.1f}%", 100 * change); }

std::string Value(const MetricComparison& m, double v) {
  if (m.gauge) return fmt::format("{:.4g}", v);
  if (m.metric == "rate") return fmt::format("{:.1f}/s", v);
  if (m.metric == "error_rate") return fmt::format("{:.2f}%", 100 * v);
  return fmt::format("{:.3f} ms", v);
}

std::string ChangeText(const MetricComparison& m, double change) {
  return m.metric == "error_rate" ? fmt::format("{:+.2f} pp", 100 * change) : Pct(change);
}

// The change the interval and the U test are about: the per-second values' medians
// (means for the error rate). With too few seconds there is none.
std::string JudgedChangeText(const MetricComparison& m) {
  return m.verdict == Verdict::kInsufficient ? "-" : ChangeText(m, m.window_change);
}

constexpr const char* kChangeNote =
    "change and its 95% interval: the median of the per-second values, current vs baseline (the mean for error_rate) "
    "— what the U test and the gate judge; baseline, current and run change: the whole-run values";

std::string IntervalText(const MetricComparison& m) {
  if (m.verdict == Verdict::kInsufficient) return "-";
  if (m.metric == "error_rate") return fmt::format("[{:+.2f}, {:+.2f}] pp", 100 * m.ci_low, 100 * m.ci_high);
  return fmt::format("[{}, {}]", Pct(m.ci_low - 1), Pct(m.ci_high - 1));
}

}  // namespace

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kSame: return "no significant change";
    case Verdict::kBetter: return "better";
    case Verdict::kWorse: return "WORSE";
    case Verdict::kInsufficient: return "too few seconds to tell";
    case Verdict::kHigher: return "higher";
    case Verdict::kLower: return "lower";
  }
  return "";
}

bool Comparison::regressed() const {
  return std::any_of(rows.begin(), rows.end(), [](const MetricComparison& m) { return m.verdict == Verdict::kWorse; });
}

Comparison CompareRuns(const RunResults& baseline, const RunResults& current, const CompareOptions& options) {
  Comparison c;
  c.baseline_name = baseline.meta.test;
  c.current_name = current.meta.test;
  c.options = options;
  std::vector<std::string> requests{""};
  std::vector<std::string> b = baseline.store.TagValues("http_reqs", "name");
  std::vector<std::string> current_names = current.store.TagValues("http_reqs", "name");
  std::set<std::string> cur(current_names.begin(), current_names.end());
  for (const std::string& n : b) {
    if (cur.count(n) && !n.empty()) requests.push_back(n);
  }
  for (const std::string& r : requests) {
    Windows wb = WindowsOf(baseline, r), wc = WindowsOf(current, r);
    Headline hb = HeadlineOf(baseline, r), hc = HeadlineOf(current, r);
    c.rows.push_back(CompareMetric(r, "p50", hb.p50, hc.p50, wb.p50, wc.p50, true, false, options));
    c.rows.push_back(CompareMetric(r, "p95", hb.p95, hc.p95, wb.p95, wc.p95, true, false, options));
    c.rows.push_back(CompareMetric(r, "p99", hb.p99, hc.p99, wb.p99, wc.p99, true, false, options));
    c.rows.push_back(CompareMetric(r, "rate", hb.rate, hc.rate, wb.rate, wc.rate, false, false, options));
    c.rows.push_back(CompareMetric(r, "error_rate", hb.error_rate, hc.error_rate, wb.error_rate, wc.error_rate, true,
                                   true, options));
  }
  // The system's gauges both runs sampled: their seconds' values, compared as latency is.
  auto seconds_of = [](const RunResults& run) {
    std::map<std::string, std::vector<double>> out;
    for (const SeriesPoint& p : run.series) {
      for (const auto& [key, v] : p.resources) {
        if (!key.starts_with("generator_")) out[key].push_back(v);  // loadcell's own are not the system's
      }
    }
    return out;
  };
  auto gb = seconds_of(baseline), gc = seconds_of(current);
  for (const auto& [key, vb] : gb) {
    auto it = gc.find(key);
    if (it == gc.end()) continue;
    MetricComparison m =
        CompareMetric("(system)", key, Median(vb), Median(it->second), vb, it->second, true, false, options);
    m.gauge = true;
    if (m.verdict == Verdict::kWorse) m.verdict = Verdict::kHigher;
    if (m.verdict == Verdict::kBetter) m.verdict = Verdict::kLower;
    c.rows.push_back(std::move(m));
  }
  return c;
}

std::string FormatComparison(const Comparison& c) {
  std::string out = fmt::format("loadcell compare: {} (baseline) vs {} (current), allowed regression {:.0f}%\n\n",
                                c.baseline_name, c.current_name, 100 * c.options.max_regression);
  out += fmt::format("  {:<20} {:<10} {:>14} {:>14} {:>11} {:>10} {:>9}  {:<22} {}\n", "request", "metric", "baseline",
                     "current", "run change", "change", "p", "95% interval", "verdict");
  for (const MetricComparison& m : c.rows) {
    out +=
        fmt::format("  {:<20} {:<10} {:>14} {:>14} {:>11} {:>10} {:>9.2g}  {:<22} {}\n",
                    m.request.empty() ? "(all)" : m.request, m.metric, Value(m, m.baseline), Value(m, m.current),
                    ChangeText(m, m.change), JudgedChangeText(m), m.p_value, IntervalText(m), VerdictName(m.verdict));
  }
  out += fmt::format("\n  {}\n", kChangeNote);
  out += c.regressed() ? "\n  REGRESSION: significantly worse beyond the allowed change\n"
                       : "\n  no significant regression\n";
  return out;
}

std::string ComparisonMarkdown(const Comparison& c) {
  std::string out = fmt::format("### {} loadcell compare: {}\n\n", c.regressed() ? "❌" : "✅",
                                c.regressed() ? "regression" : "no significant regression");
  out += fmt::format("Baseline `{}` vs current `{}`; allowed regression {:.0f}%, significance p < {:g}.\n\n",
                     c.baseline_name, c.current_name, 100 * c.options.max_regression, c.options.alpha);
  out +=
      "| request | metric | baseline | current | run change | change | 95% interval | verdict |\n"
      "|---|---|---:|---:|---:|---:|---|---|\n";
  for (const MetricComparison& m : c.rows) {
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {}{} |\n", m.request.empty() ? "(all)" : m.request,
                       m.metric, Value(m, m.baseline), Value(m, m.current), ChangeText(m, m.change),
                       JudgedChangeText(m), IntervalText(m),
                       m.verdict == Verdict::kWorse    ? "❌ "
                       : m.verdict == Verdict::kBetter ? "✅ "
                                                       : "",
                       VerdictName(m.verdict));
  }
  out += fmt::format("\n_{}_\n", kChangeNote);
  return out;
}

nlohmann::json ComparisonJson(const Comparison& c) {
  nlohmann::json rows = nlohmann::json::array();
  for (const MetricComparison& m : c.rows) {
    rows.push_back({{"request", m.request},
                    {"metric", m.metric},
                    {"baseline", m.baseline},
                    {"current", m.current},
                    {"change", m.change},
                    {"window_change", m.window_change},
                    {"p_value", m.p_value},
                    {"ci", {m.ci_low, m.ci_high}},
                    {"windows", {m.windows_baseline, m.windows_current}},
                    {"verdict", m.verdict == Verdict::kWorse    ? "worse"
                                : m.verdict == Verdict::kBetter ? "better"
                                : m.verdict == Verdict::kSame   ? "same"
                                                                : "insufficient"}});
  }
  return {{"baseline", c.baseline_name}, {"current", c.current_name},  {"max_regression", c.options.max_regression},
          {"alpha", c.options.alpha},    {"regressed", c.regressed()}, {"rows", rows}};
}

}  // namespace loadcell
