// Does a test fit the machine that generates it? Each VU holds a connection (a file
// descriptor) and its state in memory; a plan beyond either fails at the start with how
// many VUs fit, instead of dying mid-run (std::bad_alloc, EMFILE storms) with no results.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "load/execution_segment.h"
#include "scenario/definition.h"

namespace loadcell {

// Memory a VU is planned with: its state, parser, buffers, RNG and a share of the
// worker's; measured at 4-6 KiB idle, so this leaves room for bodies in flight.
inline constexpr uint64_t kPlannedBytesPerVu = 16 * 1024;
// Descriptors kept back for everything that is not a VU's connection (epoll, pipes,
// outputs, live servers, database pools).
inline constexpr uint64_t kReservedFiles = 64;

// The most VUs this generator's share of the test holds at once (scenarios summed: they
// may overlap).
int64_t PeakVus(const TestDefinition& def, const ExecutionSegment& segment);

// Why `vus` do not fit `file_limit` descriptors and `memory_bytes` of available memory,
// or nullopt when they do.
std::optional<std::string> VusDoNotFit(int64_t vus, uint64_t file_limit, uint64_t memory_bytes);

// This process's limits: the soft RLIMIT_NOFILE (`hard`: the hard one, what a run raises
// the soft one to) and MemAvailable from /proc/meminfo (0 when unknown).
uint64_t FileLimit(bool hard);
uint64_t AvailableMemory();

}  // namespace loadcell
