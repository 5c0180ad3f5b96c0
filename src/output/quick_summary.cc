#include "output/quick_summary.h"

#include <fmt/format.h>

#include "common/units.h"

namespace loadcell {
namespace {

std::string Us(double us) { return FormatDuration(static_cast<Nanos>(us * 1000)); }

void LatencyBlock(std::string& out, const char* title, const SeriesAggregate& a) {
  if (!a.trend || a.trend->empty()) return;
  const HdrHistogram& h = *a.trend;
  out += fmt::format("  {}\n", title);
  out += fmt::format("    min {}  mean {}  stdev {}  max {}\n", Us(static_cast<double>(h.min())), Us(h.mean()),
                     Us(h.stddev()), Us(static_cast<double>(h.max())));
  out += "   ";
  for (double p : {50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99}) {
    out += fmt::format(" p{}={}", p, Us(static_cast<double>(h.ValueAtPercentile(p))));
  }
  out += "\n";
}

}  // namespace

std::string FormatQuickSummary(const RunResults& r, const QuickHeader& h) {
  const MetricStore& s = r.store;
  const bool open = h.rate > 0;
  std::string out;
  out += fmt::format("loadcell {} — {} {}\n", r.meta.version, h.method, h.url);
  if (open) {
    out += fmt::format("  open model: {:.0f} req/s target, {} connections, {} threads, {} (seed {})\n", h.rate,
                       h.connections, h.threads, FormatDuration(h.duration), h.seed);
  } else {
    out += fmt::format("  closed model: {} connections, {} threads, {} (seed {})\n", h.connections, h.threads,
                       FormatDuration(h.duration), h.seed);
  }
  if (r.meta.interrupted) out += "  interrupted: results cover the run up to the interruption\n";
  out += "\n";
  LatencyBlock(out, open ? "Latency (http_req_duration, from intended send time)" : "Latency (http_req_duration)",
               s.Select("http_req_duration", {}));
  if (open) {
    LatencyBlock(out, "Service time (from actual send)", s.Select("http_req_service_duration", {}));
    LatencyBlock(out, "Send lag (actual - intended send time)", s.Select("iteration_start_lag", {}));
    out += fmt::format("  started late (all connections busy): {}\n", s.Select("delayed_iterations", {}).count);
  }
  out += "\n";
  const int64_t requests = s.Select("http_reqs", {}).count;
  const int64_t received = s.Select("data_received", {}).count, sent = s.Select("data_sent", {}).count;
  const double secs = r.meta.duration_s > 0 ? r.meta.duration_s : 1;
  out += fmt::format("  {} requests in {:.2f}s, {} read, {} written\n", requests, r.meta.duration_s,
                     FormatBytes(static_cast<double>(received)), FormatBytes(static_cast<double>(sent)));
  out += fmt::format("  Requests/sec: {:.2f}\n", static_cast<double>(requests) / secs);
  out += fmt::format("  Transfer/sec: {}\n", FormatBytes(static_cast<double>(received) / secs));
  std::string codes;
  int64_t responses = 0;
  for (const std::string& status : s.TagValues("http_reqs", "status")) {
    if (status == "0") continue;  // no response: counted under Errors
    int64_t n = s.Select("http_reqs", {{"status", status}}).count;
    responses += n;
    codes += fmt::format(" {}={}", status, n);
  }
  out += fmt::format("  Status codes:{}\n", codes.empty() ? " none" : codes);
  SeriesAggregate failed = s.Select("http_req_failed", {});
  out +=
      fmt::format("  Failed (http_req_failed): {} of {} ({:.2f}%)\n", failed.passes, failed.count,
                  failed.count ? 100.0 * static_cast<double>(failed.passes) / static_cast<double>(failed.count) : 0.0);
  // The kinds wrk users look for always, the others when they happened.
  std::string errs;
  std::vector<std::string> kinds = s.TagValues("http_req_errors", "kind");
  for (const char* k : {"connect", "timeout", "reset", "protocol", "tls"}) {
    errs += fmt::format(" {}={}", k, s.Select("http_req_errors", {{"kind", k}}).count);
  }
  for (const std::string& k : kinds) {
    if (k != "connect" && k != "timeout" && k != "reset" && k != "protocol" && k != "tls")
      errs += fmt::format(" {}={}", k, s.Select("http_req_errors", {{"kind", k}}).count);
  }
  out += fmt::format("  Errors:{}\n", errs);
  const int64_t connect_failures = s.Select("http_req_errors", {{"kind", "connect"}}).count +
                                   s.Select("http_req_errors", {{"kind", "connect_timeout"}}).count;
  if (responses == 0 && connect_failures > 0) {
    out += fmt::format("\n  WARNING: target unreachable: no response received, {} connection attempts failed ({})\n",
                       connect_failures, h.url);
  }
  if (r.meta.interrupted_iterations > 0) {
    out += fmt::format("\n  NOTE: {} requests were still in flight when the grace period ended: cut, not counted\n",
                       r.meta.interrupted_iterations);
  }
  for (const std::string& m : r.messages) out += fmt::format("\n  WARNING: {}\n", m);
  for (const Finding& f : r.findings) out += fmt::format("\n  FINDING ({}): {}\n", f.rule, f.text);
  return out;
}

}  // namespace loadcell
