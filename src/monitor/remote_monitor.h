// The monitor sources that read over the network (`monitor: scrape:`, `prometheus:` and
// `postgres:`),
// on a thread of their own: a slow or unreachable endpoint delays none of the run's
// per-second work. The run's resource sampler takes the latest complete reading each second.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "monitor/http_get.h"
#include "monitor/postgres_source.h"
#include "monitor/scrape_source.h"

namespace loadcell {

struct ScrapeTarget {
  std::string url;
  std::vector<std::string> families;  // regular expressions over family names (empty: all)
  HttpGetOptions http;
};

// A Prometheus server and the PromQL queries to evaluate at each reading, by gauge name.
struct PromQueryTarget {
  std::string url;  // the server's base URL (http://prom:9090)
  std::map<std::string, std::string> queries;
  HttpGetOptions http;
};

// A PostgreSQL server whose statistics to read (postgres_source.h).
struct PgStatsTarget {
  std::string url;     // postgres://user@host:port/db
  int statements = 5;  // the slowest statements kept per reading (0: none)
};

struct RemoteSources {
  std::vector<ScrapeTarget> scrapes;
  std::vector<PromQueryTarget> prometheus;
  std::vector<PgStatsTarget> postgres;
  bool empty() const { return scrapes.empty() && prometheus.empty() && postgres.empty(); }
};

class RemoteMonitor {
 public:
  RemoteMonitor(RemoteSources sources, Nanos interval);
  ~RemoteMonitor();  // stops the thread
  RemoteMonitor(const RemoteMonitor&) = delete;
  RemoteMonitor& operator=(const RemoteMonitor&) = delete;

  // Reads once now (so that rates have a baseline by the first second), then every
  // interval until destroyed.
  void Start();
  // The gauges of the latest reading of every source (a source that failed keeps none).
  std::map<std::string, double> Latest() const;
  // What went wrong, once per source and kind of failure, for the run's notes.
  std::vector<std::string> TakeNotes();
  int64_t failures() const;

 private:
  struct Source {
    ScrapeTarget target;
    std::unique_ptr<HttpGetter> http;
    ScrapeConverter converter;
    std::map<std::string, double> latest;
  };
  struct QuerySource {
    PromQueryTarget target;
    std::unique_ptr<HttpGetter> http;
    std::map<std::string, double> latest;
  };
  struct PgSource {
    PgStatsTarget target;
    std::unique_ptr<PgStatsSource> source;
    std::map<std::string, double> latest;
  };
  void ReadAll();
  void Note(const std::string& what, const std::string& message);  // once per source and message; holds mu_
  void Loop();

  std::vector<Source> sources_;
  std::vector<QuerySource> queries_;
  std::vector<PgSource> databases_;
  Nanos interval_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::vector<std::string> notes_;
  std::set<std::string> noted_;
  int64_t failures_ = 0;
  std::thread thread_;
};

}  // namespace loadcell
