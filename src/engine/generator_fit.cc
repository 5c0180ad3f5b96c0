#include "engine/generator_fit.h"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace loadcell {

int64_t PeakVus(const TestDefinition& def, const ExecutionSegment& segment) {
  int64_t total = 0;
  for (const ScenarioDef& s : def.scenarios) {
    int64_t peak = 0;
    switch (s.executor) {
      case ExecutorKind::kConstantVus:
      case ExecutorKind::kPerVuIterations:
      case ExecutorKind::kSharedIterations: peak = s.vus; break;
      case ExecutorKind::kRampingVus:
        peak = s.start_vus;
        for (const Stage& st : s.stages) peak = std::max(peak, static_cast<int64_t>(st.target));
        break;
      case ExecutorKind::kConstantArrivalRate:
      case ExecutorKind::kRampingArrivalRate:
      case ExecutorKind::kCapacitySearch: peak = std::max(s.pre_allocated_vus, s.max_vus); break;
    }
    total += segment.whole() ? peak : segment.Scale(peak);
  }
  return total;
}

std::optional<std::string> VusDoNotFit(int64_t vus, uint64_t file_limit, uint64_t memory_bytes) {
  const auto need = static_cast<uint64_t>(std::max<int64_t>(vus, 0));
  uint64_t by_files = file_limit > kReservedFiles ? file_limit - kReservedFiles : 0;
  if (need > by_files) {
    return fmt::format(
        "{} VUs at the peak need {} open files (a connection each), and this process may open {} "
        "(ulimit -n): at most {} VUs fit on this generator; raise the limit or split the test across "
        "generators (run --segment)",
        need, need + kReservedFiles, file_limit, by_files);
  }
  uint64_t by_memory = memory_bytes / kPlannedBytesPerVu;
  if (memory_bytes > 0 && need > by_memory) {
    return fmt::format(
        "{} VUs at the peak need about {} MiB ({} KiB each), and this machine has {} MiB available: "
        "at most {} VUs fit on this generator; split the test across generators (run --segment)",
        need, need * kPlannedBytesPerVu >> 20, kPlannedBytesPerVu >> 10, memory_bytes >> 20, by_memory);
  }
  return std::nullopt;
}

uint64_t FileLimit(bool hard) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  rlim_t v = hard ? rl.rlim_max : rl.rlim_cur;
  return v == RLIM_INFINITY ? UINT64_MAX / 2 : static_cast<uint64_t>(v);
}

uint64_t AvailableMemory() {
  std::ifstream f("/proc/meminfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream in(line.substr(13));
      uint64_t kib = 0;
      in >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

}  // namespace loadcell
