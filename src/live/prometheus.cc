#include "live/prometheus.h"

#include <array>
#include <map>

#include <fmt/format.h>

#include "common/printable.h"
#include "metrics/gauge_key.h"

namespace loadcell {
namespace {

// Bucket bounds in seconds: 100 us to 1 min, the range of request latencies worth alerting on.
constexpr std::array<double, 18> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};

const char* Help(const std::string& metric) {
  static const std::map<std::string, const char*> help = {
      {"http_reqs", "HTTP requests made (each response or failure)"},
      {"http_req_failed", "HTTP requests that failed (status >= 400 or no response)"},
      {"http_req_duration", "HTTP request duration, from the intended send time in the open model"},
      {"http_req_errors", "Requests that got no response, by kind"},
      {"iterations", "Completed iterations"},
      {"dropped_iterations", "Iterations the arrival-rate executors could not start (no free VU)"},
      {"checks", "Check evaluations by result"},
      {"data_sent", "Bytes sent"},
      {"data_received", "Bytes received"},
  };
  auto it = help.find(metric);
  return it == help.end() ? "loadcell metric" : it->second;
}

std::string LabelName(const std::string& k) {
  std::string out;
  for (char c : k) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "_" + out;
  return out;
}

std::string LabelValue(const std::string& v) { return EscapeChars(v, {{'\\', "\\\\"}, {'"', "\\\""}, {'\n', "\\n"}}); }

// {a="1",b="2"} from tags (empty values dropped: Prometheus treats them as absent) plus
// `more` (already formatted pairs).
std::string Labels(const Tags& tags, const Tags& extra, const std::string& more = "") {
  std::string out;
  auto add = [&out](const std::string& k, const std::string& v) {
    if (v.empty()) return;
    out += out.empty() ? "{" : ",";
    out += LabelName(k) + "=\"" + LabelValue(v) + "\"";
  };
  for (const auto& [k, v] : tags) add(k, v);
  for (const auto& [k, v] : extra) add(k, v);
  if (!more.empty()) {
    out += out.empty() ? "{" : ",";
    out += more;
  }
  return out.empty() ? "" : out + "}";
}

}  // namespace

std::string PrometheusName(const std::string& metric) {
  std::string out = "loadcell_";
  for (char c : metric) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return out;
}

std::string PrometheusText(const MetricStore& cumulative, const PrometheusGauges& gauges, const Tags& extra) {
  std::string out;
  std::string current;
  auto family = [&](const std::string& name, const char* type, const std::string& metric) {
    if (name == current) return;
    current = name;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, Help(metric), name, type);
  };
  cumulative.ForEach([&](const std::string& metric, const SeriesAggregate& a) {
    std::string base = PrometheusName(metric);
    switch (a.kind) {
      case MetricKind::kCounter:
        family(base + "_total", "counter", metric);
        out += fmt::format("{}_total{} {}\n", base, Labels(a.tags, extra), a.count);
        break;
      case MetricKind::kRate:
        family(base + "_total", "counter", metric);
        if (metric == "checks") {
          out += fmt::format("{}_total{} {}\n", base, Labels(a.tags, extra, "result=\"pass\""), a.passes);
          out += fmt::format("{}_total{} {}\n", base, Labels(a.tags, extra, "result=\"fail\""), a.count - a.passes);
        } else {
          out += fmt::format("{}_total{} {}\n", base, Labels(a.tags, extra), a.passes);
        }
        break;
      case MetricKind::kGauge:
        family(base, "gauge", metric);
        out += fmt::format("{}{} {:g}\n", base, Labels(a.tags, extra), a.value);
        break;
      case MetricKind::kTrend: {
        std::string name = base + "_seconds";
        family(name, "histogram", metric);
        std::array<int64_t, kBounds.size()> le{};
        int64_t total = 0;
        double sum_us = 0;
        if (a.trend) {
          a.trend->ForEachNonZero([&](int64_t v, int64_t c) {
            double s = static_cast<double>(v) / 1e6;
            for (size_t i = 0; i < kBounds.size(); ++i) {
              if (s <= kBounds[i]) le[i] += c;
            }
            total += c;
            sum_us += static_cast<double>(a.trend->MedianEquivalent(v)) * static_cast<double>(c);
          });
        }
        for (size_t i = 0; i < kBounds.size(); ++i) {
          out += fmt::format("{}_bucket{} {}\n", name, Labels(a.tags, extra, fmt::format("le=\"{:g}\"", kBounds[i])),
                             le[i]);
        }
        out += fmt::format("{}_bucket{} {}\n", name, Labels(a.tags, extra, "le=\"+Inf\""), total);
        out += fmt::format("{}_sum{} {:.6f}\n", name, Labels(a.tags, extra), sum_us / 1e6);
        out += fmt::format("{}_count{} {}\n", name, Labels(a.tags, extra), total);
        break;
      }
    }
  });
  out += fmt::format("# HELP loadcell_vus VUs in an iteration\n# TYPE loadcell_vus gauge\nloadcell_vus{} {:g}\n",
                     Labels({}, extra), gauges.vus);
  // Keys sort by metric first, so one family's series (a monitor source's labels) follow
  // each other under one HELP and TYPE.
  std::string last_family;
  for (const auto& [key, v] : gauges.resources) {
    auto [name, tags] = SplitGaugeKey(key);
    std::string metric = PrometheusName(name);
    if (metric != last_family) {
      out += fmt::format("# HELP {} resource monitor: {}\n# TYPE {} gauge\n", metric, name, metric);
      last_family = metric;
    }
    out += fmt::format("{}{} {:g}\n", metric, Labels(tags, extra), v);
  }
  if (gauges.generator_cpu >= 0) {
    out += fmt::format(
        "# HELP loadcell_generator_cpu_ratio loadcell's own CPU use over the last second, of all cores\n"
        "# TYPE loadcell_generator_cpu_ratio gauge\nloadcell_generator_cpu_ratio{} {:.4f}\n",
        Labels({}, extra), gauges.generator_cpu);
  }
  return out;
}

}  // namespace loadcell
