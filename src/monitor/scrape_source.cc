#include "monitor/scrape_source.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "metrics/gauge_key.h"

namespace loadcell {
namespace {

Tags LabelsWithout(const PromSample& s, const char* drop) {
  Tags t;
  for (const auto& [k, v] : s.labels) {
    if (k != drop) t[k] = v;
  }
  return t;
}

}  // namespace

double HistogramQuantile(double q, const std::vector<std::pair<double, double>>& buckets) {
  if (buckets.empty()) return std::nan("");
  double total = buckets.back().second;
  if (total <= 0) return std::nan("");
  double rank = q * total;
  double lower = 0, below = 0;
  for (const auto& [le, count] : buckets) {
    if (count >= rank) {
      if (std::isinf(le)) return lower;  // the rank is past the last finite bound
      if (count == below) return le;
      return lower + (le - lower) * (rank - below) / (count - below);
    }
    lower = le;
    below = count;
  }
  return lower;
}

bool ScrapeConverter::Wanted(const std::string& family) const {
  if (families_.empty()) return true;
  return std::any_of(families_.begin(), families_.end(),
                     [&family](const std::regex& r) { return std::regex_match(family, r); });
}

std::map<std::string, double> ScrapeConverter::Convert(const PromExposition& e, double now_s) {
  std::map<std::string, double> out;
  const double dt = last_s_ >= 0 ? now_s - last_s_ : 0;
  std::map<std::string, double> seen;
  // Per-second increase of a cumulative series since the previous read (reset: from zero).
  auto rate = [&](const std::string& key, double value) -> std::optional<double> {
    seen[key] = value;
    auto it = last_.find(key);
    if (dt <= 0 || it == last_.end()) return std::nullopt;
    double increase = value >= it->second ? value - it->second : value;
    return increase / dt;
  };
  // Histograms: per series (labels but `le`), the buckets' increase.
  std::map<std::string, std::pair<Tags, std::vector<std::pair<double, double>>>> histograms;
  for (const PromSample& s : e.samples) {
    auto [family, type] = FamilyOf(e, s.name);
    if (!Wanted(family)) continue;
    const std::string metric = "monitor_" + s.name;
    switch (type) {
      case PromType::kGauge:
      case PromType::kUntyped: out[GaugeKey(metric, LabelsWithout(s, ""))] = s.value; break;
      case PromType::kCounter: {
        if (s.name.ends_with("_created")) break;  // OpenMetrics: when the counter was made
        std::string key = GaugeKey(metric, LabelsWithout(s, ""));
        if (auto r = rate(key, s.value)) out[key] = *r;
        break;
      }
      case PromType::kSummary:
      case PromType::kHistogram: {
        if (s.name == family + "_count") {
          std::string key = GaugeKey("monitor_" + family + "_count", LabelsWithout(s, ""));
          if (auto r = rate(key, s.value)) out[key] = *r;
        } else if (type == PromType::kSummary && s.name == family) {
          out[GaugeKey(metric, LabelsWithout(s, ""))] = s.value;
        } else if (type == PromType::kHistogram && s.name == family + "_bucket") {
          auto le = std::find_if(s.labels.begin(), s.labels.end(), [](const auto& l) { return l.first == "le"; });
          if (le == s.labels.end()) break;
          double bound = le->second == "+Inf" ? HUGE_VAL : std::strtod(le->second.c_str(), nullptr);
          Tags tags = LabelsWithout(s, "le");
          std::string bucket_key = GaugeKey("monitor_" + s.name, LabelsWithout(s, ""));
          seen[bucket_key] = s.value;
          auto it = last_.find(bucket_key);
          if (dt <= 0 || it == last_.end()) break;
          double increase = s.value >= it->second ? s.value - it->second : s.value;
          auto& h = histograms[GaugeKey(family, tags)];
          h.first = tags;
          h.second.emplace_back(bound, increase);
        }
        break;
      }
    }
  }
  for (auto& [series, h] : histograms) {
    auto& [tags, buckets] = h;
    std::sort(buckets.begin(), buckets.end());
    const std::string family = series.substr(0, series.find('{'));
    for (auto [q, suffix] : {std::pair{0.5, "_p50"}, {0.9, "_p90"}, {0.95, "_p95"}, {0.99, "_p99"}}) {
      double v = HistogramQuantile(q, buckets);
      if (!std::isnan(v)) out[GaugeKey("monitor_" + family + suffix, tags)] = v;
    }
  }
  last_ = std::move(seen);
  last_s_ = now_s;
  return out;
}

}  // namespace loadcell
