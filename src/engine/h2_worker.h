// A `quick` load thread speaking HTTP/2: each connection carries up to `streams`
// concurrent requests (nghttp2 does the framing, HPACK and flow control; this class the
// sockets, TLS with ALPN "h2" or cleartext with prior knowledge, timeouts and
// accounting). Same contract as Worker: shared-nothing, one Shard per second to the sink,
// the closed model keeps connections × streams requests in flight, the open model hands
// due arrivals to any connection with a free stream and measures from the intended time.
//
// Streams the server refused (REFUSED_STREAM, or beyond a GOAWAY's last stream id) were
// not processed: the open model sends them again once on another connection (their
// latency still counts from the first intended time), the closed model refills the slot;
// other stream or connection errors count as failures.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "engine/worker.h"
#include "protocol/http2/h2_client.h"

namespace loadcell {

class H2Worker final : public LoadThread, public h2::H2ClientEvents {
 public:
  H2Worker(const WorkerPlan& plan, const Clock& clock, SnapshotSink& sink, StartGate& gate,
           const std::atomic<bool>& interrupted);
  ~H2Worker() override;
  H2Worker(const H2Worker&) = delete;
  H2Worker& operator=(const H2Worker&) = delete;

  void Run() override;

 private:
  struct Conn;
  struct Stream;

  // H2ClientEvents
  void OnStreamDone(h2::H2Stream* stream, uint32_t error_code, bool refused) override;
  void OnReady(h2::H2Client& client, Nanos now) override;
  void OnDown(h2::H2Client& client, std::optional<Failure> failure, bool was_ready, Nanos now) override;
  void OnBytes(int64_t sent, int64_t received) override;

  void StartConnect(Conn& c, Nanos now);
  bool Submit(Conn& c, Nanos intended, int resends, Nanos now);
  void Fill(Conn& c, Nanos now);  // closed model: top the connection up to its streams
  void Dispatch(Nanos now);       // open model: queued arrivals to free streams
  void CountFailure(Nanos intended, FailureKind kind);
  void Release(Stream* s);
  void Scan(Nanos now);
  void PreConnect();
  void PublishInterval(bool final);
  bool Wanted(Nanos now) const { return Sending(now) || !queue_.empty() || !retry_.empty(); }
  bool Recording(Nanos started) const { return started >= measure_start_; }
  bool Sending(Nanos now) const { return !stopping_ && now < stop_sending_; }

  WorkerPlan plan_;
  const Clock& clock_;
  SnapshotSink& sink_;
  StartGate& gate_;
  const std::atomic<bool>& interrupted_;
  const bool open_;
  Poller poller_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<std::unique_ptr<Stream>> streams_;  // every stream object, reused
  std::vector<Stream*> free_;
  std::vector<Stream*> live_;  // in flight, for timeouts
  std::optional<ConstantRateSchedule> schedule_;
  std::deque<Nanos> queue_;  // open model: due arrivals waiting for a stream
  struct Resend {
    Nanos intended;
    int resends;
  };
  std::deque<Resend> retry_;  // open model: refused streams to send again
  std::vector<char> buf_;
  Shard shard_;
  Nanos start_ = INT64_MAX, measure_start_ = INT64_MAX, stop_sending_ = INT64_MAX, hard_stop_ = INT64_MAX;
  int64_t second_ = 0;
  Nanos next_snapshot_ = 0;
  int64_t active_ = 0;
  size_t late_marked_ = 0;
  size_t next_conn_ = 0;  // open model: round-robin start
  bool stopping_ = false;
  Nanos io_now_ = 0;  // time of the event being handled (stream ends and byte counts use it)
};

}  // namespace loadcell
