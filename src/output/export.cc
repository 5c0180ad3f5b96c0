#include "output/export.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "metrics/hdr_codec.h"

namespace loadcell {
namespace {

using nlohmann::json;

// k6 trend: values in ms.
json Trend(const HdrHistogram& h) {
  auto ms = [](double us) { return us / 1000.0; };
  json t;
  t["avg"] = ms(h.mean());
  t["min"] = ms(static_cast<double>(h.min()));
  t["med"] = ms(static_cast<double>(h.ValueAtPercentile(50)));
  t["max"] = ms(static_cast<double>(h.max()));
  for (double p : {50.0, 90.0, 95.0, 99.0, 99.9}) {
    t[fmt::format("p({})", p)] = ms(static_cast<double>(h.ValueAtPercentile(p)));
  }
  return t;
}

json Counter(int64_t count, double secs) {
  return {{"count", count}, {"rate", secs > 0 ? static_cast<double>(count) / secs : 0.0}};
}

json Rate(int64_t passes, int64_t total) {
  return {{"value", total ? static_cast<double>(passes) / static_cast<double>(total) : 0.0},
          {"passes", passes},
          {"fails", total - passes}};
}

json CountersJson(const Counters& c) {
  json j;
  j["requests"] = c.requests;
  j["responses"] = c.responses;
  j["failed"] = c.failed;
  json f = json::object();
  for (int k = 0; k < kFailureKinds; ++k)
    f[FailureName(static_cast<FailureKind>(k))] = c.failures[static_cast<size_t>(k)];
  j["errors"] = f;
  json s = json::object();
  for (size_t i = 0; i < c.status.size(); ++i) {
    if (c.status[i] > 0) s[i == 0 ? "other" : std::to_string(i)] = c.status[i];
  }
  j["status"] = s;
  j["bytes_in"] = c.bytes_in;
  j["bytes_out"] = c.bytes_out;
  j["late"] = c.late;
  j["connects"] = c.connects;
  j["reconnect_failures"] = c.reconnect_failures;
  return j;
}

}  // namespace

std::string Iso8601(double epoch_s) {
  time_t t = static_cast<time_t>(epoch_s);
  tm g{};
  gmtime_r(&t, &g);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &g);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>((epoch_s - static_cast<double>(t)) * 1000));
}

json SummaryExport(const RunResult& r) {
  const Counters& c = r.totals.counters;
  double secs = r.measured_s;
  json metrics;
  metrics["http_reqs"] = Counter(c.requests, secs);
  metrics["iterations"] = Counter(c.requests, secs);
  metrics["http_req_duration"] = Trend(r.totals.duration);
  metrics["http_req_failed"] = Rate(c.failed, c.requests);
  metrics["data_received"] = Counter(c.bytes_in, secs);
  metrics["data_sent"] = Counter(c.bytes_out, secs);
  metrics["vus"] = {{"value", r.meta.connections}, {"min", r.meta.connections}, {"max", r.meta.connections}};
  metrics["vus_max"] = metrics["vus"];
  if (r.open_model()) {
    metrics["http_req_service_duration"] = Trend(r.totals.service);
    metrics["http_req_send_lag"] = Trend(r.totals.send_lag);
    metrics["http_req_late"] = Counter(c.late, secs);
  }
  return {{"metrics", metrics}};
}

json FullJson(const RunResult& r) {
  const QuickMeta& m = r.meta;
  json j;
  j["schema"] = "loadcell.quick/v1";
  j["meta"] = {{"version", m.version},
               {"command_line", m.command_line},
               {"host", m.hostname},
               {"url", m.url},
               {"method", m.method},
               {"mode", m.mode},
               {"connections", m.connections},
               {"threads", m.threads},
               {"rate", m.rate},
               {"duration_s", static_cast<double>(m.duration) / 1e9},
               {"warmup_s", static_cast<double>(m.warmup) / 1e9},
               {"timeout_s", static_cast<double>(m.timeout) / 1e9},
               {"seed", m.seed},
               {"start", Iso8601(m.start_wall)},
               {"end", Iso8601(m.end_wall)},
               {"measured_s", r.measured_s},
               {"interrupted", r.interrupted}};
  j["metrics"] = SummaryExport(r)["metrics"];
  j["counters"] = CountersJson(r.totals.counters);
  j["histograms"] = {{"unit", "us"},
                     {"http_req_duration", EncodeHdrBase64(r.totals.duration)},
                     {"http_req_service_duration", EncodeHdrBase64(r.totals.service)},
                     {"http_req_send_lag", EncodeHdrBase64(r.totals.send_lag)}};
  json series = json::array();
  for (const QuickSecond& p : r.series) {
    series.push_back({{"second", p.second},
                      {"start_s", p.start_s},
                      {"length_s", p.length_s},
                      {"requests", p.counters.requests},
                      {"rate", p.length_s > 0 ? static_cast<double>(p.counters.requests) / p.length_s : 0.0},
                      {"failed", p.counters.failed},
                      {"errors", p.counters.failures},
                      {"bytes_in", p.counters.bytes_in},
                      {"in_flight", p.inflight},
                      {"p50_ms", static_cast<double>(p.p50_us) / 1000},
                      {"p90_ms", static_cast<double>(p.p90_us) / 1000},
                      {"p99_ms", static_cast<double>(p.p99_us) / 1000},
                      {"max_ms", static_cast<double>(p.max_us) / 1000},
                      {"http_req_duration", p.duration_hdr}});
  }
  j["series"] = series;
  j["worker_cpu"] = r.worker_cpu;
  j["warnings"] = r.warnings;
  return j;
}

std::string IntervalLog(const RunResult& r) {
  std::string out;
  out += "#[Histogram log format version 1.3]\n";
  out += fmt::format("#[StartTime: {:.3f} (seconds since epoch), {}]\n", r.meta.start_wall, Iso8601(r.meta.start_wall));
  out += fmt::format("#[BaseTime: {:.3f} (seconds since epoch)]\n", r.meta.start_wall);
  out += "#[loadcell http_req_duration, values in microseconds; Interval_Max in milliseconds]\n";
  out += "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n";
  for (const QuickSecond& p : r.series) {
    out += fmt::format("{:.3f},{:.3f},{:.3f},{}\n", p.start_s, p.length_s, static_cast<double>(p.max_us) / 1000.0,
                       p.duration_hdr);
  }
  return out;
}

Status CheckWritable(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return Error::Io(fmt::format("cannot write {}: directory {} does not exist", path, dir));
  }
  if (!S_ISDIR(st.st_mode)) return Error::Io(fmt::format("cannot write {}: {} is not a directory", path, dir));
  if (::access(dir.c_str(), W_OK) != 0) {
    return Error::Io(fmt::format("cannot write {}: {} ({})", path, std::strerror(errno), dir));
  }
  return Status::Ok();
}

Status WriteFile(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Error::Io(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return Error::Io(fmt::format("cannot write {}: {}", path, why));
  }
  return Status::Ok();
}

}  // namespace loadcell
