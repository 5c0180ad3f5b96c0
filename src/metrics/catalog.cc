#include "metrics/catalog.h"

namespace loadcell {

const std::vector<MetricInfo>& MetricCatalog() {
  using T = MetricType;
  using U = MetricUnit;
  static const std::vector<MetricInfo> catalog = {
      // HTTP
      {"http_reqs", T::kCounter, U::kCount, "requests finished (a response or a failure)"},
      {"http_req_duration", T::kTrend, U::kTime,
       "from the intended send (open executors) or the send to the end of the response"},
      {"http_req_failed", T::kRate, U::kNone, "failed requests: no response, or a status outside 200-399"},
      {"http_req_errors", T::kCounter, U::kCount, "requests that got no response, by `kind` (connect, timeout, ...)"},
      {"http_req_connecting", T::kTrend, U::kTime, "establishing the TCP connection (0 on a reused one)"},
      {"http_req_tls_handshaking", T::kTrend, U::kTime, "the TLS handshake (0 on a reused or cleartext one)"},
      {"http_req_waiting", T::kTrend, U::kTime, "from the request written to the first byte of the response"},
      {"http_req_service_duration", T::kTrend, U::kTime,
       "open executors: from the actual send to the end of the response (http_req_duration less the start lag)"},
      {"http_connections_opened", T::kCounter, U::kCount,
       "HTTP connections opened (a connection the server closed is replaced: keep-alive at work)"},
      {"data_sent", T::kCounter, U::kBytes, "bytes sent, all protocols"},
      {"data_received", T::kCounter, U::kBytes, "bytes received, all protocols"},
      {"capture_failures", T::kCounter, U::kCount, "captures that found nothing (the variable is unset)"},
      {"while_exits", T::kCounter, U::kCount,
       "`while` steps ended, by `name` and `reason` (condition, max_iterations, timeout)"},
      {"script_errors", T::kCounter, U::kCount, "Lua errors, by `message` (file:line: what; 64 messages, then other)"},
      // Iterations and VUs
      {"iterations", T::kCounter, U::kCount, "iterations completed"},
      {"iteration_duration", T::kTrend, U::kTime, "one iteration of a scenario's flow"},
      {"iteration_start_lag", T::kTrend, U::kTime,
       "open executors: how late an iteration started after its intended time"},
      {"dropped_iterations", T::kCounter, U::kCount, "open executors: iterations not started (no VU free)"},
      {"delayed_iterations", T::kCounter, U::kCount,
       "quick -R: arrivals that waited for a free connection (counted in their latency)"},
      {"group_duration", T::kTrend, U::kTime, "one pass through a group, by `group`"},
      {"checks", T::kRate, U::kNone, "checks that passed, by `check`"},
      {"vus", T::kGauge, U::kCount, "active VUs"},
      {"vus_max", T::kGauge, U::kCount, "VUs allocated"},
      // WebSocket
      {"ws_sessions", T::kCounter, U::kCount, "WebSocket sessions started"},
      {"ws_connecting", T::kTrend, U::kTime, "from the connect to the upgrade's answer"},
      {"ws_session_duration", T::kTrend, U::kTime, "from the connect to the end of the session"},
      {"ws_msgs_sent", T::kCounter, U::kCount, "messages sent"},
      {"ws_msgs_received", T::kCounter, U::kCount, "messages received"},
      {"ws_msg_rtt", T::kTrend, U::kTime, "from a send to the receive that matched it"},
      {"ws_session_failed", T::kRate, U::kNone, "sessions that failed"},
      {"ws_errors", T::kCounter, U::kCount, "session failures, by `kind`"},
      // PostgreSQL
      {"sql_queries", T::kCounter, U::kCount, "queries finished"},
      {"sql_query_duration", T::kTrend, U::kTime, "from the intended send to the result (successful queries)"},
      {"sql_query_failed", T::kRate, U::kNone, "queries that failed"},
      {"sql_errors", T::kCounter, U::kCount, "query failures, by `kind`"},
      // The system under test (monitor:) and the host
      {"target_cpu", T::kGauge, U::kPercent, "the monitored processes' CPU, % of one core"},
      {"target_rss", T::kGauge, U::kBytes, "the monitored processes' resident memory"},
      {"target_threads", T::kGauge, U::kCount, "the monitored processes' threads"},
      {"target_fds", T::kGauge, U::kCount, "the monitored processes' open file descriptors"},
      {"target_processes", T::kGauge, U::kCount, "processes matched by the monitor"},
      {"target_read_bytes", T::kGauge, U::kBytesPerSecond, "the monitored processes' storage reads"},
      {"target_write_bytes", T::kGauge, U::kBytesPerSecond, "the monitored processes' storage writes"},
      {"target_rss_growth_mb_per_h", T::kGauge, U::kNone, "the target's memory growth over the run, MB per hour"},
      {"target_leak_suspected", T::kGauge, U::kNone, "1 when that growth looks like a leak, else 0"},
      {"host_cpu", T::kGauge, U::kPercent, "the host's CPU, % of all cores"},
      {"host_memory", T::kGauge, U::kBytes, "the host's memory in use"},
      {"host_memory_total", T::kGauge, U::kBytes, "the host's memory"},
      {"host_net_rx", T::kGauge, U::kBytesPerSecond, "bytes received, all interfaces"},
      {"host_net_tx", T::kGauge, U::kBytesPerSecond, "bytes sent, all interfaces"},
      // The generator itself
      {"generator_cpu", T::kGauge, U::kPercent, "loadcell's own CPU, % of one core"},
      {"generator_rss", T::kGauge, U::kBytes, "loadcell's own resident memory"},
      // The database under test (monitor.postgres)
      {"monitor_pg_connections", T::kGauge, U::kCount, "client connections by `state` (active, idle, ...)"},
      {"monitor_pg_connections_used", T::kGauge, U::kCount, "client connections, all states"},
      {"monitor_pg_connections_max", T::kGauge, U::kCount, "the server's max_connections"},
      {"monitor_pg_xact_commit_rate", T::kGauge, U::kNone, "transactions committed per second (this database)"},
      {"monitor_pg_xact_rollback_rate", T::kGauge, U::kNone, "transactions rolled back per second"},
      {"monitor_pg_cache_hit_ratio", T::kGauge, U::kNone, "blocks found in shared buffers / blocks asked for, 0-1"},
      {"monitor_pg_tuples_rate", T::kGauge, U::kNone,
       "rows per second by `op` (returned, fetched, inserted, updated, deleted)"},
      {"monitor_pg_locks_waiting", T::kGauge, U::kCount, "lock requests not granted"},
      {"monitor_pg_deadlocks", T::kGauge, U::kCount, "deadlocks since the run started"},
      {"monitor_pg_temp_bytes_rate", T::kGauge, U::kBytesPerSecond, "bytes written to temporary files"},
      {"monitor_pg_statement_ms", T::kGauge, U::kNone,
       "the slowest statements' mean execution time in ms, by `query` (pg_stat_statements)"},
      {"monitor_pg_statement_calls_rate", T::kGauge, U::kNone, "those statements' calls per second, by `query`"},
  };
  return catalog;
}

const MetricInfo& MonitorGaugeInfo() {
  static const MetricInfo info{"monitor_<name>", MetricType::kGauge, MetricUnit::kNone,
                               "a gauge of a monitor source, as the source serves it (docs/analysis.md)"};
  return info;
}

const MetricInfo& CustomMetricInfo(MetricType type) {
  static const MetricInfo kInfos[] = {
      {"<custom>", MetricType::kCounter, MetricUnit::kCount, "a metric of the test (`metrics:`)"},
      {"<custom>", MetricType::kRate, MetricUnit::kNone, "a metric of the test (`metrics:`)"},
      {"<custom>", MetricType::kTrend, MetricUnit::kTime, "a metric of the test (`metrics:`), in ms"},
      {"<custom>", MetricType::kGauge, MetricUnit::kNone, "a metric of the test (`metrics:`)"}};
  return kInfos[static_cast<int>(type)];
}

const MetricInfo* FindMetric(std::string_view name) {
  for (const MetricInfo& m : MetricCatalog()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::string_view MetricTypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kRate: return "rate";
    case MetricType::kTrend: return "trend";
    case MetricType::kGauge: return "gauge";
  }
  return "unknown";
}

}  // namespace loadcell
