#include <fmt/format.h>

#include "report/report.h"

namespace loadcell {
namespace {

// RFC 4180: quote a field holding a comma, quote or line break.
std::string Field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Row(int64_t t, double dur, double vus, const std::string& name, const SeriesStats& s) {
  return fmt::format("{},{:g},{:g},{},{},{:.3f},{},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f}\n", t, dur, vus,
                     Field(name), s.reqs, dur > 0 ? static_cast<double>(s.reqs) / dur : 0.0, s.failed, s.avg, s.p50,
                     s.p90, s.p95, s.p99, s.max);
}

}  // namespace

std::string CsvSeries(const RunResults& r) {
  // `name` is empty on the row of all requests of the second.
  std::string out = "second,duration_s,vus,name,reqs,rate,failed,avg_ms,p50_ms,p90_ms,p95_ms,p99_ms,max_ms\n";
  for (const SeriesPoint& p : r.series) {
    out += Row(p.t, p.dur, p.vus, "", p.all);
    for (const auto& [name, s] : p.by_name) out += Row(p.t, p.dur, p.vus, name, s);
  }
  return out;
}

}  // namespace loadcell
