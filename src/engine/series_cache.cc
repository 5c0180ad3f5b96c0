#include "engine/series_cache.h"

#include <functional>

namespace loadcell {

Tags RequestTags(const Tags& base, const RequestStep& req, const std::string& group, int status,
                 const std::string& instance) {
  Tags tags = base;
  tags["name"] = req.name;
  tags["method"] = req.method;
  tags["status"] = std::to_string(status);
  tags["group"] = group;
  for (const auto& [k, v] : req.tags) tags[k] = v;
  if (req.tag_from.has_value() && status != 0) tags[req.tag_from->as] = instance;
  return tags;
}

Tags CheckTags(const Tags& base, const std::string& check, const std::string& group, const std::string& name) {
  Tags tags = base;
  tags["check"] = check;
  tags["group"] = group;
  tags["name"] = name;
  return tags;
}

size_t SeriesCache::KeyHash::operator()(const Key& k) const {
  size_t h = std::hash<const void*>{}(k.req);
  h = h * 31 + static_cast<size_t>(k.base_id);
  h = h * 31 + static_cast<size_t>(k.status);
  if (!k.instance.empty()) h = h * 31 + std::hash<std::string>{}(k.instance);
  return k.group.empty() ? h : h * 31 + std::hash<std::string>{}(k.group);
}

int SeriesCache::Intern(const Tags& base) {
  auto [it, added] = base_ids_.try_emplace(TagKey(base).key, static_cast<int>(bases_.size()));
  if (added) {
    bases_.push_back(base);
    vus_.emplace_back();
  }
  return it->second;
}

SeriesPair SeriesCache::Pair(const std::string& metric, const TagKey& key, MetricKind kind) const {
  return {&total_->Series(metric, key, kind), &interval_->Series(metric, key, kind)};
}

void SeriesCache::Resolve(const Key& k, RequestSeries* s) const {
  const Tags& base = bases_[static_cast<size_t>(k.base_id)];
  Tags tags = RequestTags(base, *k.req, k.group, k.status, k.instance);
  TagKey key(tags);
  s->reqs = Pair("http_reqs", key, MetricKind::kCounter);
  s->failed = Pair("http_req_failed", key, MetricKind::kRate);
  if (k.status != 0) {
    s->duration = Pair("http_req_duration", key, MetricKind::kTrend);
    s->connecting = &total_->Series("http_req_connecting", key, MetricKind::kTrend);
    s->tls = &total_->Series("http_req_tls_handshaking", key, MetricKind::kTrend);
    s->waiting = &total_->Series("http_req_waiting", key, MetricKind::kTrend);
    if (k.open) s->service = &total_->Series("http_req_service_duration", key, MetricKind::kTrend);
  }
  s->checks.clear();
  for (const Check& c : k.req->checks) {
    Tags ct = CheckTags(base, c.label, k.group, k.req->name);
    s->checks.push_back(Pair("checks", TagKey(ct), MetricKind::kRate));
  }
  s->epoch = epoch_;
}

const RequestSeries& SeriesCache::Request(int base_id, const RequestStep& req, const std::string& group, int status,
                                          bool open, const std::string& instance) {
  // The last hit first: a VU's requests mostly repeat the previous one's series.
  if (last_ != nullptr && last_->first.req == &req && last_->first.base_id == base_id &&
      last_->first.status == status && last_->first.open == open && last_->first.group == group &&
      last_->first.instance == instance && last_->second.epoch == epoch_) {
    return last_->second;
  }
  Key k{&req, base_id, status, open, group, instance};
  auto it = requests_.find(k);
  if (it == requests_.end()) it = requests_.emplace(std::move(k), RequestSeries{}).first;
  if (it->second.epoch != epoch_) Resolve(it->first, &it->second);
  last_ = &*it;
  return it->second;
}

const SeriesPair& SeriesCache::Vu(int base_id, VuMetric m) {
  static const char* const kNames[] = {"iterations", "iteration_duration", "data_sent", "data_received",
                                       "http_connections_opened"};
  static const MetricKind kKinds[] = {MetricKind::kCounter, MetricKind::kTrend, MetricKind::kCounter,
                                      MetricKind::kCounter, MetricKind::kCounter};
  VuSeries& v = vus_[static_cast<size_t>(base_id)];
  auto i = static_cast<size_t>(m);
  if (v.epochs[i] != epoch_) {
    v.pairs[i] = Pair(kNames[i], TagKey(bases_[static_cast<size_t>(base_id)]), kKinds[i]);
    v.epochs[i] = epoch_;
  }
  return v.pairs[i];
}

SeriesAggregate& SeriesCache::StartLag(int base_id) {
  VuSeries& v = vus_[static_cast<size_t>(base_id)];
  if (v.start_lag == nullptr)
    v.start_lag =
        &total_->Series("iteration_start_lag", TagKey(bases_[static_cast<size_t>(base_id)]), MetricKind::kTrend);
  return *v.start_lag;
}

}  // namespace loadcell
