// `monitor: prometheus:` — the team's Prometheus asked, once per second during the run, for
// each named PromQL query's value at that instant (the HTTP API's instant query). Every
// series a query returns is a gauge `monitor_<name>` with the series' labels as tags; a
// scalar result is one gauge without tags.
#pragma once

#include <map>
#include <string>

#include "common/result.h"

namespace loadcell {

// The gauges of one instant query's answer (HTTP status and the API's JSON) for the query
// named `name`. Prometheus answers a query it cannot run with 400 or 422 and its reason in
// the JSON: the error carries that reason; another answer that is not the API's JSON is an
// error naming the HTTP status.
Result<std::map<std::string, double>> PromQueryGauges(const std::string& name, long http_status,
                                                      const std::string& answer);

// `base` (http://prom:9090, a path prefix kept) + /api/v1/query with the query and the
// instant (unix seconds) encoded.
std::string PromQueryUrl(const std::string& base, const std::string& query, double unix_s);

}  // namespace loadcell
