// `quick`'s console summary, wrk's layout: latency percentiles (and, in the open model,
// service time, send lag and arrivals that waited), requests, transfer, status codes,
// failures by kind, then the notes of the analysis. A view of RunResults like every other
// output: `loadcell report` of quick's --out file shows the same numbers.
#pragma once

#include <string>

#include "common/clock.h"
#include "results/run_results.h"

namespace loadcell {

// What quick was asked to do (its flags), for the header.
struct QuickHeader {
  std::string method, url;
  int connections = 0, threads = 0;
  double rate = 0;  // 0: closed model
  Nanos duration = 0;
  uint64_t seed = 0;
};

std::string FormatQuickSummary(const RunResults& r, const QuickHeader& h);

}  // namespace loadcell
