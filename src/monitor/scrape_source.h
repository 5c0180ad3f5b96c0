// `monitor: scrape:` — a service's own Prometheus/OpenMetrics endpoint read once per second
// during the run, when there is no Prometheus to ask. What each family becomes:
//   gauge, untyped        monitor_<name>{labels}: the value read;
//   counter               monitor_<name>{labels}: its per-second rate since the previous read
//                         (a reset counts from zero, as Prometheus's rate() does);
//   histogram             monitor_<name>_p50/_p90/_p95/_p99{labels}: quantiles of what was
//                         observed since the previous read (histogram_quantile over the
//                         buckets' increase), and monitor_<name>_count: observations per second;
//   summary               monitor_<name>{quantile="0.5",...}: the quantiles as served, and
//                         monitor_<name>_count per second.
#pragma once

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "monitor/prom_text.h"

namespace loadcell {

class ScrapeConverter {
 public:
  // `families`: the families to keep, each a regular expression matched against the whole
  // family name (a plain name matches itself); empty: every family.
  explicit ScrapeConverter(std::vector<std::regex> families) : families_(std::move(families)) {}

  // The gauges of one read at `now_s` (seconds on a monotonic clock). Rates and histogram
  // quantiles need a previous read: the first gives levels only.
  std::map<std::string, double> Convert(const PromExposition& e, double now_s);

 private:
  bool Wanted(const std::string& family) const;

  std::vector<std::regex> families_;
  std::map<std::string, double> last_;  // series key -> its previous value (counters, buckets, counts)
  double last_s_ = -1;
};

// Prometheus's histogram_quantile over cumulative bucket counts by upper bound (ascending,
// the last +Inf): linear within the bucket the rank falls in; NaN without observations.
double HistogramQuantile(double q, const std::vector<std::pair<double, double>>& buckets);

}  // namespace loadcell
