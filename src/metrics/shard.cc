#include "metrics/shard.h"

#include <cassert>

namespace loadcell {

void Counters::Add(const Counters& o) {
  requests += o.requests;
  responses += o.responses;
  failed += o.failed;
  for (int i = 0; i < kFailureKinds; ++i) failures[i] += o.failures[i];
  for (size_t i = 0; i < status.size(); ++i) status[i] += o.status[i];
  bytes_in += o.bytes_in;
  bytes_out += o.bytes_out;
  late += o.late;
  connects += o.connects;
  reconnect_failures += o.reconnect_failures;
}

int64_t Counters::total_failures() const {
  int64_t n = 0;
  for (int64_t f : failures) n += f;
  return n;
}

void Shard::Add(const Shard& o) {
  // Every shard of a run is built from the run's one HistogramSpec, so layouts match;
  // a mismatch is a programming error, caught by the debug (sanitizer) builds.
  [[maybe_unused]] bool ok = duration.Add(o.duration).ok();
  ok = service.Add(o.service).ok() && ok;
  ok = send_lag.Add(o.send_lag).ok() && ok;
  assert(ok);
  counters.Add(o.counters);
  inflight += o.inflight;
}

}  // namespace loadcell
