// The series a VU's samples go to, found once and kept. Recording a response touches up
// to nine series in two stores; building its tag set and canonical key and finding each
// series by name cost more than the rest of handling the response (perf: ~15% of a
// static-request run), so a worker finds them once per (request, VU tags, group, status)
// and records straight into them. The interval store is handed over and replaced every
// second: NewInterval() makes every entry find its interval series again on next use.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "metrics/metric_store.h"
#include "scenario/definition.h"

namespace loadcell {

// The tags of a request's samples (the naming rule: docs/metrics.md): the VU's base tags
// (scenario and the scenario's tags), name, method, status, group, then the request's own
// tags, which win; with `tag_from`, its tag set to `instance` (responses only).
Tags RequestTags(const Tags& base, const RequestStep& req, const std::string& group, int status,
                 const std::string& instance = {});
// The tags of a check's samples: base tags, check, group, name.
Tags CheckTags(const Tags& base, const std::string& check, const std::string& group, const std::string& name);

// One series in the run's store and in the current second's.
struct SeriesPair {
  SeriesAggregate* total = nullptr;
  SeriesAggregate* interval = nullptr;
  void Count(int64_t n) const {
    total->AddCount(n);
    interval->AddCount(n);
  }
  void Rate(bool pass) const {
    total->AddRate(pass);
    interval->AddRate(pass);
  }
  void Trend(Nanos v) const {
    total->AddTrend(v);
    interval->AddTrend(v);
  }
};

struct RequestSeries {
  SeriesPair reqs, failed, duration;                                          // duration: responses only
  SeriesAggregate *connecting = nullptr, *tls = nullptr, *waiting = nullptr;  // run totals, responses only
  SeriesAggregate* service = nullptr;  // run totals, responses of open executors only
  std::vector<SeriesPair> checks;      // one per check of the request
  uint64_t epoch = 0;
};

class SeriesCache {
 public:
  // `interval` is the worker's current-second store: the object behind the pointer is
  // replaced each second (then call NewInterval), the pointer itself stays.
  SeriesCache(MetricStore* total, MetricStore* interval) : total_(total), interval_(interval) {}

  // A small id for a VU's base tags (VUs with equal tags share one), fixed at the VU's start.
  int Intern(const Tags& base);
  const Tags& BaseTags(int base_id) const { return bases_[static_cast<size_t>(base_id)]; }  // stable
  // status 0: a request that failed before a response (only reqs, failed and checks).
  // `open`: the request belongs to an arrival-rate executor (its service time is kept).
  // `instance`: the value `tag_from` read from the response.
  const RequestSeries& Request(int base_id, const RequestStep& req, const std::string& group, int status,
                               bool open = false, const std::string& instance = {});
  // A VU's own series (base tags only), each made on first use so that a metric a test
  // never records does not appear with zero samples.
  enum class VuMetric { kIterations, kIterationDuration, kDataSent, kDataReceived, kConnectionsOpened, kCount };
  const SeriesPair& Vu(int base_id, VuMetric m);
  SeriesAggregate& StartLag(int base_id);  // iteration_start_lag, run totals only
  void NewInterval() { ++epoch_; }

 private:
  struct Key {
    const RequestStep* req;
    int base_id;
    int status;
    bool open;
    std::string group;
    std::string instance;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  SeriesPair Pair(const std::string& metric, const TagKey& key, MetricKind kind) const;
  void Resolve(const Key& k, RequestSeries* s) const;

  MetricStore* total_;
  MetricStore* interval_;
  uint64_t epoch_ = 1;
  std::map<std::string, int> base_ids_;  // canonical tags -> id
  std::deque<Tags> bases_;               // by id (a deque: references stay valid as it grows)
  std::unordered_map<Key, RequestSeries, KeyHash> requests_;
  const std::pair<const Key, RequestSeries>* last_ = nullptr;  // nodes are stable: a rehash keeps them
  struct VuSeries {
    std::array<SeriesPair, static_cast<size_t>(VuMetric::kCount)> pairs;
    std::array<uint64_t, static_cast<size_t>(VuMetric::kCount)> epochs{};
    SeriesAggregate* start_lag = nullptr;
  };
  std::vector<VuSeries> vus_;  // by base id
};

}  // namespace loadcell
