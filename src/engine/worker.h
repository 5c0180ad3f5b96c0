// One load-generating thread. It owns its epoll loop, its connections, its RNG and its
// metric shard (shared-nothing, as in wrk2 and LevelDB's db_bench); the only data that
// leaves it is a whole Shard handed to the SnapshotSink once per second and at the end.
//
// Load policy is the schedule, not the worker: closed (each connection sends its next
// request when the previous completes) or open (a ConstantRateSchedule decides when each
// request is due; latency counts from that intended time, so a stalled server shows up in
// the percentiles instead of silently slowing the load — no coordinated omission).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "engine/start_gate.h"
#include "load/constant_rate.h"
#include "metrics/shard.h"
#include "net/poller.h"
#include "net/resolver.h"
#include "net/transport.h"
#include "protocol/http2/h2_connection.h"

namespace loadcell {

struct WorkerPlan {
  int index = 0;
  int workers = 1;
  int connections = 1;
  Endpoint endpoint;
  std::string server_name;                    // SNI and certificate name
  const TlsContext* tls = nullptr;            // null for plain HTTP
  const std::string* request = nullptr;       // compiled request bytes, shared read-only
  const h2::H2Request* h2_request = nullptr;  // HTTP/2: the compiled request (H2Worker)
  int streams = 1;                            // HTTP/2: concurrent streams per connection
  bool head_request = false;
  Nanos warmup = 0;              // load before measuring
  Nanos duration = 0;            // measured load
  Nanos grace = 0;               // in-flight requests may finish this long after the duration
  Nanos timeout = 10 * kSecond;  // per request, connect included
  double rate = 0;               // > 0: open model at this total rate
  uint64_t seed = 0;
  HistogramSpec histograms;
};

struct IntervalSnapshot {
  int worker = 0;
  int64_t second = 0;  // index from measure_start; the final snapshot has final = true
  bool final = false;
  Shard shard;
  double thread_cpu_s = 0;  // CPU time this thread used so far (final snapshot)
  double wall_s = 0;
};

// Receives snapshots from any worker thread; implementations synchronise internally.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual void Publish(IntervalSnapshot snapshot) = 0;
};

// Hands a worker's shard of `second` to the sink (with the thread's CPU time when `final`)
// and leaves a fresh one in its place. Shared by Worker and H2Worker.
void PublishShard(SnapshotSink& sink, int worker, int64_t second, bool final, int64_t inflight, double wall_s,
                  Shard* shard, const HistogramSpec& spec);

// A load-generating thread of `quick`: HTTP/1.1 (Worker) or HTTP/2 (H2Worker).
class LoadThread {
 public:
  virtual ~LoadThread() = default;
  virtual void Run() = 0;
};

class Worker final : public LoadThread {
 public:
  Worker(const WorkerPlan& plan, const Clock& clock, SnapshotSink& sink, StartGate& gate,
         const std::atomic<bool>& interrupted);
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Run() override;

 private:
  struct Conn;
  enum class Phase { kRunning, kDraining, kDone };

  void StartConnect(Conn& c, Nanos now);
  void OnEvent(Conn& c, uint32_t events, Nanos now);
  void OnConnected(Conn& c, Nanos now);
  void StepHandshake(Conn& c, Nanos now);
  void StartRequest(Conn& c, Nanos intended, Nanos now);
  void ContinueWrite(Conn& c, Nanos now);
  void OnReadable(Conn& c, Nanos now);
  void Complete(Conn& c, Nanos now, bool force_close);
  void Fail(Conn& c, FailureKind kind, Nanos now);
  void NextForConnection(Conn& c, Nanos now);  // after a request ended on a live connection
  void Recycle(Conn& c, Nanos now);            // close and maybe reconnect
  void SetInterest(Conn& c, uint32_t events);
  void FlushDeferred();                          // closed model: send the batch's next requests
  void Dispatch(Nanos now);                      // open model: hand queued arrivals to idle connections
  void Scan(Nanos now);                          // timeouts, reconnect back-off, queue expiry
  void ExpireQueued(Nanos now, Nanos max_wait);  // open model: fail arrivals queued that long
  void PublishInterval(bool final);
  void PreConnect();  // open model: connect before the start
  bool Recording(Nanos started) const { return started >= measure_start_; }
  bool Sending(Nanos now) const;

  WorkerPlan plan_;
  const Clock& clock_;
  SnapshotSink& sink_;
  StartGate& gate_;
  const std::atomic<bool>& interrupted_;
  Poller poller_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> idle_;                       // open model: connected, no request
  std::vector<Conn*> deferred_;                   // closed model: next request to send after this batch
  const bool open_;                               // open model (a rate) rather than closed
  std::optional<ConstantRateSchedule> schedule_;  // open model, from the start on
  std::deque<Nanos> queue_;                       // open model: due arrivals waiting for a connection
  std::vector<char> buf_;                         // one read buffer for all connections: reads are consumed at once
  std::mt19937_64 rng_;
  Shard shard_;
  // Absolute times, known once the StartGate opens; until then nothing is recorded.
  Nanos start_ = INT64_MAX;          // load begins (warm-up included)
  Nanos measure_start_ = INT64_MAX;  // samples of requests started before this are dropped
  Nanos stop_sending_ = INT64_MAX;   // no request starts after this
  Nanos hard_stop_ = INT64_MAX;      // grace over: what is in flight fails as a timeout
  int64_t second_ = 0;
  Nanos next_snapshot_ = 0;
  int64_t active_ = 0;      // requests assigned to a connection
  size_t late_marked_ = 0;  // queued arrivals already counted as late (the oldest ones)
  bool stopping_ = false;
};

}  // namespace loadcell
