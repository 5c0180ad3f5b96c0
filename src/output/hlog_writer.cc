#include "output/hlog_writer.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "metrics/hdr_codec.h"
#include "output/export.h"

namespace loadcell {

HlogWriter::~HlogWriter() {
  if (f_ != nullptr) std::fclose(f_);
}

Status HlogWriter::Open(const std::string& path) {
  path_ = path;
  f_ = std::fopen(path.c_str(), "w");
  if (f_ == nullptr) return Error::Io(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  return Status::Ok();
}

void HlogWriter::Write(const std::string& text) {
  if (f_ == nullptr || !error_.empty()) return;
  if (std::fwrite(text.data(), 1, text.size(), f_) != text.size() || std::fflush(f_) != 0) {
    error_ = fmt::format("cannot write {}: {}", path_, std::strerror(errno));
  }
}

void HlogWriter::OnStart(double start_wall) {
  Write(
      fmt::format("#[Histogram log format version 1.3]\n"
                  "#[StartTime: {0:.3f} (seconds since epoch), {1}]\n"
                  "#[BaseTime: {0:.3f} (seconds since epoch)]\n"
                  "#[loadcell http_req_duration, values in microseconds; Interval_Max in milliseconds]\n"
                  "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n",
                  start_wall, Iso8601(start_wall)));
}

void HlogWriter::OnSecond(const SeriesPoint& point, const MetricStore& interval) {
  SeriesAggregate d = interval.Select("http_req_duration", {});
  if (!d.trend || d.trend->empty()) return;  // a second without responses: no interval
  Write(fmt::format("{:.3f},{:.3f},{:.3f},{}\n", static_cast<double>(point.t) - point.dur, point.dur,
                    static_cast<double>(d.trend->max()) / 1000.0, EncodeHdrBase64(*d.trend)));
}

Status HlogWriter::Finish() {
  if (f_ != nullptr && std::fclose(f_) != 0 && error_.empty()) {
    error_ = fmt::format("cannot write {}: {}", path_, std::strerror(errno));
  }
  f_ = nullptr;
  if (!error_.empty()) return Error::Io(error_);
  return Status::Ok();
}

}  // namespace loadcell
