#include "metrics/metric_store.h"

#include <algorithm>
#include <set>

namespace loadcell {
namespace {

std::string Canonical(const Tags& tags) {
  std::string s;
  for (const auto& [k, v] : tags) {
    s += k;
    s += '\x1f';
    s += v;
    s += '\x1e';
  }
  return s;
}

}  // namespace

void SeriesAggregate::Add(const SeriesAggregate& o) {
  if (o.kind == MetricKind::kGauge) {
    if (count == 0) {
      min = o.min;
      max = o.max;
    } else {
      min = std::min(min, o.min);
      max = std::max(max, o.max);
    }
    value = o.value;
  }
  count += o.count;
  passes += o.passes;
  if (o.trend) {
    if (!trend) trend = std::make_unique<HdrHistogram>();
    (void)trend->Add(*o.trend);
  }
}

TagKey::TagKey(const Tags& t) : tags(t), key(Canonical(t)) {}

SeriesAggregate& MetricStore::At(const std::string& metric, const TagKey& tags, MetricKind kind) {
  auto& by_tags = series_[metric];
  auto it = by_tags.find(tags.key);
  if (it == by_tags.end()) {
    SeriesAggregate a;
    a.kind = kind;
    a.tags = tags.tags;
    if (kind == MetricKind::kTrend) a.trend = std::make_unique<HdrHistogram>();
    it = by_tags.emplace(tags.key, std::move(a)).first;
  }
  return it->second;
}

void MetricStore::Count(const std::string& metric, const TagKey& tags, int64_t n) {
  At(metric, tags, MetricKind::kCounter).count += n;
}

void MetricStore::Rate(const std::string& metric, const TagKey& tags, bool pass) {
  At(metric, tags, MetricKind::kRate).AddRate(pass);
}

void MetricStore::Trend(const std::string& metric, const TagKey& tags, Nanos value) {
  At(metric, tags, MetricKind::kTrend).AddTrend(value);
}

void MetricStore::Count(const std::string& metric, const Tags& tags, int64_t n) { Count(metric, TagKey(tags), n); }
void MetricStore::Rate(const std::string& metric, const Tags& tags, bool pass) { Rate(metric, TagKey(tags), pass); }
void MetricStore::Trend(const std::string& metric, const Tags& tags, Nanos value) {
  Trend(metric, TagKey(tags), value);
}

void MetricStore::Gauge(const std::string& metric, const Tags& tags, double value) {
  SeriesAggregate& a = At(metric, TagKey(tags), MetricKind::kGauge);
  a.min = a.count == 0 ? value : std::min(a.min, value);
  a.max = a.count == 0 ? value : std::max(a.max, value);
  a.value = value;
  ++a.count;
}

void MetricStore::Merge(const MetricStore& other) {
  for (const auto& [metric, by_tags] : other.series_) {
    for (const auto& [key, agg] : by_tags) {
      auto& mine = series_[metric];
      auto it = mine.find(key);
      if (it == mine.end()) {
        SeriesAggregate copy;
        copy.kind = agg.kind;
        copy.tags = agg.tags;
        copy.Add(agg);
        mine.emplace(key, std::move(copy));
      } else {
        it->second.Add(agg);
      }
    }
  }
}

void MetricStore::Insert(const std::string& metric, SeriesAggregate aggregate) {
  TagKey key(aggregate.tags);
  auto& mine = series_[metric];
  auto it = mine.find(key.key);
  if (it == mine.end()) {
    mine.emplace(key.key, std::move(aggregate));
  } else {
    it->second.Add(aggregate);
  }
}

SeriesAggregate MetricStore::Select(const std::string& metric, const Tags& filter) const {
  SeriesAggregate out;
  auto it = series_.find(metric);
  if (it == series_.end()) return out;
  bool first = true;
  for (const auto& [_, agg] : it->second) {
    if (!TagsInclude(agg.tags, filter)) continue;
    if (first) out.kind = agg.kind;
    first = false;
    out.Add(agg);
  }
  return out;
}

std::vector<std::string> MetricStore::Metrics() const {
  std::vector<std::string> m;
  for (const auto& [name, _] : series_) m.push_back(name);
  return m;
}

std::vector<std::string> MetricStore::TagValues(const std::string& metric, const std::string& tag) const {
  std::set<std::string> values;
  auto it = series_.find(metric);
  if (it != series_.end()) {
    for (const auto& [_, agg] : it->second) {
      auto t = agg.tags.find(tag);
      if (t != agg.tags.end()) values.insert(t->second);
    }
  }
  return {values.begin(), values.end()};
}

bool MetricStore::Has(const std::string& metric) const { return series_.count(metric) != 0; }

}  // namespace loadcell
