// What one worker measures between two snapshots. Plain data: the worker writes it with
// no locks or atomics; whole shards are handed to the collector once per second and
// merged there with Add().
#pragma once

#include <array>
#include <cstdint>

#include "metrics/hdr_histogram.h"
#include "protocol/failure.h"

namespace loadcell {

// quick counts the first five failures of the one vocabulary.
using FailureKind = Failure;
constexpr int kFailureKinds = 5;

struct Counters {
  int64_t requests = 0;   // finished: a response, or a failure
  int64_t responses = 0;  // complete responses, any status
  int64_t failed = 0;     // failures + responses outside 200..399 (k6's http_req_failed)
  std::array<int64_t, kFailureKinds> failures{};
  std::array<int64_t, 600> status{};  // by code; index 0 holds codes outside 100..599
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
  int64_t late = 0;                // open model: arrived while every connection was busy
  int64_t connects = 0;            // connections established
  int64_t reconnect_failures = 0;  // open model: connects that failed with no request waiting

  void Add(const Counters& o);
  int64_t total_failures() const;
};

// The layout of every latency histogram of a run (microseconds). All shards of a run
// share it, which is what makes them mergeable.
struct HistogramSpec {
  int64_t lowest_us = 1;
  int64_t highest_us = 3'600'000'000;  // 1 h
  int digits = 3;
};

// Latencies are in microseconds.
struct Shard {
  Shard() = default;
  explicit Shard(const HistogramSpec& spec)
      : duration(spec.lowest_us, spec.highest_us, spec.digits),
        service(spec.lowest_us, spec.highest_us, spec.digits),
        send_lag(spec.lowest_us, spec.highest_us, spec.digits) {}

  HdrHistogram duration;  // http_req_duration: from intended send (open) or send (closed)
  HdrHistogram service;   // from the actual send
  HdrHistogram send_lag;  // actual - intended (open model)
  Counters counters;
  int64_t inflight = 0;  // gauge, at the end of the interval

  void Add(const Shard& o);
};

}  // namespace loadcell
