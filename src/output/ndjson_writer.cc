// The .ndjson encoding written as the run goes (results_file.h).
#include "output/results_file.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "output/run_summary.h"

namespace loadcell {

using nlohmann::json;

NdjsonWriter::~NdjsonWriter() {
  if (f_ != nullptr) std::fclose(f_);
}

Status NdjsonWriter::Open(const std::string& path, const RunMeta& meta) {
  path_ = path;
  f_ = std::fopen(path.c_str(), "w");
  if (f_ == nullptr) return Error::Io(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  meta_ = meta;
  return Status::Ok();
}

void NdjsonWriter::Report(const Status& s) {
  if (s.ok() || failed_reported_) return;
  failed_reported_ = true;
  std::fprintf(stderr, "loadcell: %s (the run goes on)\n", s.error().message.c_str());
}

void NdjsonWriter::OnStart(double start_wall) {
  meta_.start_unix = start_wall;
  Report(WriteLine({{"type", "meta"}, {"schema", kResultsSchema}, {"meta", MetaJson(meta_)}}));
}

Status NdjsonWriter::WriteLine(const json& j) {
  if (f_ == nullptr || failed_) return Error::Io(error_.empty() ? fmt::format("cannot write {}", path_) : error_);
  std::string line = DumpJson(j) + "\n";
  if (std::fwrite(line.data(), 1, line.size(), f_) != line.size() || std::fflush(f_) != 0) {
    failed_ = true;
    error_ = fmt::format("cannot write {}: {}", path_, std::strerror(errno));
    return Error::Io(error_);
  }
  return Status::Ok();
}

void NdjsonWriter::OnSecond(const SeriesPoint& point, const MetricStore& interval) {
  Status s = WriteLine({{"type", "second"}, {"point", PointJson(point)}, {"store", StoreJson(interval)}});
  if (s.ok()) ++seconds_written_;
  Report(s);
}

Status NdjsonWriter::Finish(const RunResults& r) {
  json end = {{"type", "end"},
              {"meta", MetaJson(r.meta)},
              {"thresholds", ThresholdsJson(r.thresholds)},
              {"messages", r.messages},
              {"histograms", StoreJson(r.store)}};
  if (r.capacity) end["capacity"] = CapacityJson(*r.capacity);
  end["findings"] = FindingsJson(r);
  if (!r.faults.empty()) end["faults"] = FaultsJson(r.faults);
  if (!r.load_changes.empty()) end["load_changes"] = LoadChangesJson(r.load_changes);
  if (r.usl.is_object()) end["usl"] = r.usl;
  end["apdex"] = ApdexJson(r);
  Status s = failed_ ? Status(Error::Io(fmt::format("{} (the stream holds its first {} complete seconds)", error_,
                                                    seconds_written_)))
                     : WriteLine(end);
  if (f_ != nullptr && std::fclose(f_) != 0 && s.ok())
    s = Error::Io(fmt::format("cannot write {}: {}", path_, std::strerror(errno)));
  f_ = nullptr;
  return s;
}

}  // namespace loadcell
