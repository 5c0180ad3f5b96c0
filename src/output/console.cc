#include "output/console.h"

#include <fmt/format.h>

#include "common/units.h"

namespace loadcell {
namespace {

std::string Us(double us) { return FormatDuration(static_cast<Nanos>(us * 1000)); }

void LatencyBlock(std::string& out, const char* title, const HdrHistogram& h) {
  if (h.empty()) return;
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

std::string FormatLiveLine(const QuickSecond& p, double total_s) {
  const SecondCounters& c = p.counters;
  double rate = p.length_s > 0 ? static_cast<double>(c.requests) / p.length_s : 0;
  return fmt::format("{:>5.0f}s/{:.0f}s  {:>9.0f} req/s  p50 {:>9}  p99 {:>9}  errors {:<6}  in-flight {}",
                     p.start_s + p.length_s, total_s, rate, Us(static_cast<double>(p.p50_us)),
                     Us(static_cast<double>(p.p99_us)), c.failed, p.inflight);
}

std::string FormatSummary(const RunResult& r) {
  const QuickMeta& m = r.meta;
  const Counters& c = r.totals.counters;
  std::string out;
  out += fmt::format("loadcell {} — {} {}\n", m.version, m.method, m.url);
  if (r.open_model()) {
    out += fmt::format("  open model: {:.0f} req/s target, {} connections, {} threads, {} (seed {})\n", m.rate,
                       m.connections, m.threads, FormatDuration(m.duration), m.seed);
  } else {
    out += fmt::format("  closed model: {} connections, {} threads, {} (seed {})\n", m.connections, m.threads,
                       FormatDuration(m.duration), m.seed);
  }
  if (r.interrupted) out += "  interrupted: results cover the run up to the interruption\n";
  out += "\n";
  LatencyBlock(out,
               r.open_model() ? "Latency (http_req_duration, from intended send time)" : "Latency (http_req_duration)",
               r.totals.duration);
  if (r.open_model()) {
    LatencyBlock(out, "Service time (from actual send)", r.totals.service);
    LatencyBlock(out, "Send lag (actual - intended send time)", r.totals.send_lag);
    out += fmt::format("  started late (all connections busy): {}\n", c.late);
  }
  out += "\n";
  out += fmt::format("  {} requests in {:.2f}s, {} read, {} written\n", c.requests, r.measured_s,
                     FormatBytes(static_cast<double>(c.bytes_in)), FormatBytes(static_cast<double>(c.bytes_out)));
  out += fmt::format("  Requests/sec: {:.2f}\n", r.request_rate());
  double secs = r.measured_s > 0 ? r.measured_s : 1;
  out += fmt::format("  Transfer/sec: {}\n", FormatBytes(static_cast<double>(c.bytes_in) / secs));
  std::string codes;
  for (size_t i = 0; i < c.status.size(); ++i) {
    if (c.status[i] > 0) codes += fmt::format(" {}={}", i == 0 ? std::string("other") : std::to_string(i), c.status[i]);
  }
  out += fmt::format("  Status codes:{}\n", codes.empty() ? " none" : codes);
  out += fmt::format("  Failed (http_req_failed): {} of {} ({:.2f}%)\n", c.failed, c.requests,
                     c.requests ? 100.0 * static_cast<double>(c.failed) / static_cast<double>(c.requests) : 0.0);
  std::string errs;
  for (int k = 0; k < kFailureKinds; ++k) {
    errs += fmt::format(" {}={}", FailureName(static_cast<FailureKind>(k)), c.failures[static_cast<size_t>(k)]);
  }
  out += fmt::format("  Errors:{}\n", errs);
  for (const std::string& w : r.warnings) out += fmt::format("\n  WARNING: {}\n", w);
  return out;
}

}  // namespace loadcell
