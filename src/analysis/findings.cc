#include "analysis/findings.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "analysis/stats.h"
#include "scenario/threshold.h"

namespace loadcell {
namespace {

std::vector<double> Resource(const RunResults& r, const char* name) {
  std::vector<double> out;
  for (const SeriesPoint& p : r.series) {
    auto it = p.resources.find(name);
    out.push_back(it == p.resources.end() ? NAN : it->second);
  }
  return out;
}

double Mean(const std::vector<double>& v) {
  double s = 0;
  int n = 0;
  for (double x : v) {
    if (std::isnan(x)) continue;
    s += x;
    ++n;
  }
  return n ? s / n : NAN;
}

void CpuBound(const RunResults& r, std::vector<Finding>* out) {
  std::vector<const SeriesPoint*> pts;
  for (const SeriesPoint& p : r.series) {
    if (p.dur >= 0.5) pts.push_back(&p);
  }
  if (pts.size() < 9) return;
  size_t third = pts.size() / 3;
  auto avg = [&](size_t from, size_t to, auto f) {
    double s = 0;
    for (size_t i = from; i < to; ++i) s += f(*pts[i]);
    return s / static_cast<double>(to - from);
  };
  auto rate = [](const SeriesPoint& p) { return static_cast<double>(p.all.reqs) / p.dur; };
  auto p95 = [](const SeriesPoint& p) { return p.all.p95; };
  double rate_early = avg(third, 2 * third, rate), rate_late = avg(2 * third, pts.size(), rate);
  double p95_early = avg(third, 2 * third, p95), p95_late = avg(2 * third, pts.size(), p95);
  double cpu = 0, threads = 1;
  for (const SeriesPoint* p : pts) {
    auto c = p->resources.find("target_cpu");
    if (c != p->resources.end()) cpu = std::max(cpu, c->second);
    auto t = p->resources.find("target_threads");
    if (t != p->resources.end()) threads = std::max(threads, t->second);
  }
  bool flat = rate_early > 0 && std::abs(rate_late / rate_early - 1) < 0.10;
  bool rising = p95_early > 0 && p95_late > 1.5 * p95_early;
  // At least one core's worth busy: the limit of a single event loop (and a sign for others).
  bool saturated = cpu >= 95.0;
  if (flat && rising && saturated) {
    out->push_back(
        {"cpu_bound", fmt::format("CPU-bound target: throughput stayed flat ({:.1f}/s → {:.1f}/s) while p95 rose "
                                  "{:.2f} ms → {:.2f} ms, with the target's CPU at {:.0f}% ({:g} threads)",
                                  rate_early, rate_late, p95_early, p95_late, cpu, threads)});
  }
}

void Connections(const RunResults& r, std::vector<Finding>* out) {
  SeriesAggregate failed = r.store.Select("http_req_failed", {});
  if (failed.passes < 10) return;
  int64_t connect = r.store.Select("http_req_errors", {{"kind", "connect"}}).count;
  int64_t connect_timeout = r.store.Select("http_req_errors", {{"kind", "connect_timeout"}}).count;
  if (connect + connect_timeout >= failed.passes / 2) {
    out->push_back({"connections",
                    fmt::format("connection limits: {} of {} failed requests could not connect ({} refused or reset "
                                "while connecting, {} connect timeouts): the target's accept queue (listen backlog, "
                                "somaxconn) or a connection limit is full, or it is down",
                                connect + connect_timeout, failed.passes, connect, connect_timeout)});
  }
}

void Pauses(const RunResults& r, std::vector<Finding>* out) {
  std::vector<double> rss = Resource(r, "target_rss");
  if (r.series.size() < 10 || std::isnan(Mean(rss))) return;
  std::vector<double> p99s;
  for (const SeriesPoint& p : r.series) p99s.push_back(p.all.p99);
  double typical = Median(p99s);
  int drops = 0, aligned = 0;
  std::string seconds;
  for (size_t i = 1; i < r.series.size(); ++i) {
    if (std::isnan(rss[i]) || std::isnan(rss[i - 1]) || rss[i] >= 0.95 * rss[i - 1]) continue;
    ++drops;
    bool spike =
        r.series[i].all.p99 > 3 * typical || (i + 1 < r.series.size() && r.series[i + 1].all.p99 > 3 * typical);
    if (spike) {
      ++aligned;
      seconds += fmt::format("{}{}s", seconds.empty() ? "" : ", ", r.series[i].t);
    }
  }
  if (aligned >= 2 && aligned * 2 >= drops) {
    out->push_back(
        {"pauses", fmt::format("pauses (GC?): in {} of the {} seconds where the target's RSS dropped by more than "
                               "5%, p99 spiked above 3x its median ({:.2f} ms): seconds {}",
                               aligned, drops, typical, seconds)});
  }
}

void Isolation(const RunResults& r, std::vector<Finding>* out) {
  for (const std::string& tag : r.meta.tag_keys) {
    std::vector<std::string> values = r.store.TagValues("http_req_duration", tag);
    if (values.size() < 2) continue;
    std::vector<double> p95s;
    for (const std::string& v : values) {
      SeriesAggregate d = r.store.Select("http_req_duration", {{tag, v}});
      p95s.push_back(d.trend && !d.trend->empty() ? static_cast<double>(d.trend->ValueAtPercentile(95)) / 1000.0 : 0);
    }
    size_t worst = static_cast<size_t>(std::max_element(p95s.begin(), p95s.end()) - p95s.begin());
    std::vector<double> others;
    for (size_t i = 0; i < p95s.size(); ++i) {
      if (i != worst) others.push_back(p95s[i]);
    }
    double typical = Median(others);
    double jain = JainIndex(p95s);
    if (typical > 0 && p95s[worst] > 2 * typical && p95s[worst] - typical > 5) {
      out->push_back({"isolation",
                      fmt::format("isolation problem: {}={} has p95 {:.2f} ms against a median of {:.2f} ms for "
                                  "the other {} values of {} (Jain's fairness index of p95 across {} values: "
                                  "{:.3f})",
                                  tag, values[worst], p95s[worst], typical, others.size(), tag, values.size(), jain)});
    }
  }
}

// Load balancing: how the responses spread over the instances `tag_from` names. Uneven when
// one instance gets more than 1.2x, or less than 0.8x, its even share.
void Balance(const RunResults& r, std::vector<Finding>* out) {
  for (const std::string& tag : r.meta.instance_tags) {
    std::vector<std::string> values;
    std::vector<double> counts;
    double total = 0;
    for (const std::string& v : r.store.TagValues("http_reqs", tag)) {
      if (v == "none" || v == "other") continue;  // answers without the value, or past the bound
      values.push_back(v);
      counts.push_back(static_cast<double>(r.store.Select("http_reqs", {{tag, v}}).count));
      total += counts.back();
    }
    if (values.size() < 2 || total <= 0) continue;
    const double even = 1.0 / static_cast<double>(values.size());
    auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
    if (*hi / total <= 1.2 * even && *lo / total >= 0.8 * even) continue;
    std::string shares;
    for (size_t i = 0; i < values.size(); ++i) {
      shares += fmt::format("{}{} {:.1f}%", i == 0 ? "" : ", ", values[i], 100 * counts[i] / total);
    }
    out->push_back({"balance", fmt::format("uneven load balancing over {} values of {}: {} (even: {:.1f}% each; "
                                           "Jain's fairness index of the counts {:.3f})",
                                           values.size(), tag, shares, 100 * even, JainIndex(counts))});
  }
}

// The stress test's answer: the first second from which a latency or error threshold fails
// for 3 seconds in a row, judged on each second alone, with the rate and VUs there.
void BreakingPoint(const RunResults& r, std::vector<Finding>* out) {
  std::set<std::string> seen;
  for (const ThresholdOutcome& o : r.thresholds) {
    // A threshold scoped to a window says nothing about the other seconds; the same
    // expression twice (tiers) is one breaking point.
    if (o.windowed() || !seen.insert(o.key + "\n" + o.expr).second) continue;
    auto sel = ParseMetricSelector(o.key);
    auto e = ParseThresholdExpr(o.expr);
    if (!sel.ok() || !e.ok()) continue;
    using A = ThresholdExpr::Aggregate;
    bool latency = sel->metric == "http_req_duration" && (e->aggregate == A::kPercentile || e->aggregate == A::kAvg ||
                                                          e->aggregate == A::kMed || e->aggregate == A::kMax);
    bool errors = sel->metric == "http_req_failed" && e->aggregate == A::kRate;
    if (!latency && !errors) continue;
    std::string name;
    if (!sel->tags.empty()) {
      if (sel->tags.size() != 1 || !sel->tags.count("name")) continue;
      name = sel->tags.at("name");
    }
    int run = 0;
    double first_v = 0;
    for (size_t i = 0; i < r.series.size(); ++i) {
      const SeriesPoint& p = r.series[i];
      const SeriesStats* s = &p.all;
      if (!name.empty()) {
        auto it = p.by_name.find(name);
        if (it == p.by_name.end()) continue;
        s = &it->second;
      }
      if (s->reqs == 0 || p.dur < 0.5) continue;
      double v = 0;
      if (errors) {
        v = static_cast<double>(s->failed) / static_cast<double>(s->reqs);
      } else if (e->aggregate == A::kAvg) {
        v = s->avg;
      } else if (e->aggregate == A::kMed) {
        v = s->p50;
      } else if (e->aggregate == A::kMax) {
        v = s->max;
      } else if (e->percentile == 50 || e->percentile == 90 || e->percentile == 95 || e->percentile == 99) {
        v = e->percentile == 50 ? s->p50 : e->percentile == 90 ? s->p90 : e->percentile == 95 ? s->p95 : s->p99;
      } else {
        break;  // a percentile the series does not keep
      }
      run = e->Holds(v) ? 0 : run + 1;
      if (run == 1) first_v = v;
      if (run == 3) {
        const SeriesPoint& first = r.series[i - 2];
        out->push_back({"breaking_point",
                        fmt::format("breaking point at {}s: {} ({}) fails from there on for 3 seconds or more; that "
                                    "second: {:.1f} req/s, {:g} VUs, observed {:g}",
                                    first.t - 1, o.key, o.expr, static_cast<double>(first.all.reqs) / first.dur,
                                    first.vus, first_v)});
        break;
      }
    }
  }
}

}  // namespace

double JainIndex(const std::vector<double>& x) {
  double s = 0, s2 = 0;
  for (double v : x) {
    s += v;
    s2 += v * v;
  }
  return s2 > 0 ? s * s / (static_cast<double>(x.size()) * s2) : 1;
}

std::vector<Finding> FindBottlenecks(const RunResults& r) {
  std::vector<Finding> out;
  for (const std::string& m : r.messages) {
    if (m.starts_with("results may understate latency")) out.push_back({"generator", m});
  }
  BreakingPoint(r, &out);
  CpuBound(r, &out);
  Connections(r, &out);
  Pauses(r, &out);
  Isolation(r, &out);
  Balance(r, &out);
  return out;
}

std::map<std::string, Apdex> ApdexByName(const RunResults& r, double t_ms) {
  std::map<std::string, Apdex> out;
  const int64_t t_us = static_cast<int64_t>(t_ms * 1000);
  for (const std::string& name : r.store.TagValues("http_reqs", "name")) {
    Apdex a;
    int64_t total = r.store.Select("http_reqs", {{"name", name}}).count;
    r.store.ForEach([&](const std::string& metric, const SeriesAggregate& s) {
      if (metric != "http_req_duration" || !s.trend) return;
      auto n = s.tags.find("name");
      auto st = s.tags.find("status");
      if (n == s.tags.end() || n->second != name) return;
      int status = st == s.tags.end() ? 0 : std::atoi(st->second.c_str());
      if (status < 200 || status >= 400) return;  // failed: frustrated
      s.trend->ForEachNonZero([&](int64_t v, int64_t c) {
        if (v <= t_us)
          a.satisfied += c;
        else if (v <= 4 * t_us)
          a.tolerating += c;
      });
    });
    a.frustrated = total - a.satisfied - a.tolerating;
    a.score = total > 0 ? (static_cast<double>(a.satisfied) + static_cast<double>(a.tolerating) / 2) /
                              static_cast<double>(total)
                        : 0;
    out[name] = a;
  }
  return out;
}

}  // namespace loadcell
