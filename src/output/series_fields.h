// The numbers of a second of the series (SeriesPoint) and of its request stats
// (SeriesStats) under their names in the results file: one list that the writer, the
// document reader and the streaming reader share, so a field added to one is in all three.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "metrics/series.h"

namespace loadcell {

// A number of `S`: an integer (counts) or a double (rates, milliseconds).
template <typename S>
struct NumberField {
  std::string_view name;
  int64_t S::*integer = nullptr;
  double S::*real = nullptr;
  bool required = true;  // false: later versions added it; older files lack it (read as 0)

  void Set(S& s, double v) const {
    if (integer != nullptr)
      s.*integer = static_cast<int64_t>(v);
    else
      s.*real = v;
  }
  // Integers stay JSON integers: the file reads as it always did.
  nlohmann::json Get(const S& s) const {
    return integer != nullptr ? nlohmann::json(s.*integer) : nlohmann::json(s.*real);
  }
  void Read(S& s, const nlohmann::json& j) const {
    if (integer != nullptr)
      s.*integer = j.get<int64_t>();
    else
      s.*real = j.get<double>();
  }
};

// Also the order of a per-name entry's array (`series_fields` in the document).
inline constexpr NumberField<SeriesStats> kStatsFields[] = {
    {"reqs", &SeriesStats::reqs},        {"failed", &SeriesStats::failed},    {"avg", nullptr, &SeriesStats::avg},
    {"p50", nullptr, &SeriesStats::p50}, {"p90", nullptr, &SeriesStats::p90}, {"p95", nullptr, &SeriesStats::p95},
    {"p99", nullptr, &SeriesStats::p99}, {"max", nullptr, &SeriesStats::max}};
inline constexpr size_t kStatsFieldCount = std::size(kStatsFields);

// A point's own numbers (its request stats `all` sit beside them in the same object).
inline constexpr NumberField<SeriesPoint> kPointFields[] = {
    {"t", &SeriesPoint::t},
    {"dur", nullptr, &SeriesPoint::dur},
    {"vus", nullptr, &SeriesPoint::vus},
    {"iteration_avg_ms", nullptr, &SeriesPoint::iteration_avg_ms, false},
    {"iterations", &SeriesPoint::iterations},
    {"dropped", &SeriesPoint::dropped},
    {"checks_pass", &SeriesPoint::checks_pass},
    {"checks_fail", &SeriesPoint::checks_fail},
    {"data_sent", &SeriesPoint::data_sent},
    {"data_received", &SeriesPoint::data_received}};

// The field named `name` of `fields`, or nullptr.
template <typename S, size_t N>
const NumberField<S>* FieldNamed(const NumberField<S> (&fields)[N], std::string_view name) {
  for (const NumberField<S>& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace loadcell
