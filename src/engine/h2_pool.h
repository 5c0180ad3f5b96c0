// `run`'s HTTP/2 connections to one origin on one worker thread: VUs' requests become
// streams on shared connections, at most `streams` at once on each (defaults.http.streams),
// and connections open as demand needs them. A request the server refused (GOAWAY,
// REFUSED_STREAM) is sent once more on another connection; any other end is reported.
//
// Threading: the worker's thread. Callbacks (`done`) may run inside nghttp2's, so the pool
// never writes from Submit(): the worker calls FlushPending() after each batch of events.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/http2/h2_client.h"
#include "scenario/response_eval.h"

namespace loadcell {

class H2Pool final : public h2::H2ClientEvents {
 public:
  // A request in flight: owned by the pool, lent to one VU until `done` ran for it.
  struct Request : h2::H2Stream {
    void* owner = nullptr;             // the VU; null once it gave up (timeout, interrupt)
    std::optional<h2::H2Request> own;  // a templated request, compiled for this VU
    ResponseCollector collector;       // headers and body, when checks or captures need them
    int resends = 0;                   // times sent again after the server did not process it
    size_t client = 0;                 // index of the connection carrying it
  };
  // error_code 0: a response (status in the request); else why it failed (`failure` set
  // when the connection went away).
  using DoneFn = std::function<void(Request& r, uint32_t error_code, std::optional<Failure> failure, Nanos now)>;
  // Traffic of the pool's connections: bytes, and each connection opened (`opened` 1).
  using CountFn = std::function<void(int64_t sent, int64_t received, int64_t opened)>;

  H2Pool(Poller& poller, const TlsContext* tls, std::vector<char>& buf, Endpoint endpoint, std::string server_name,
         int streams, Nanos connect_timeout, DoneFn done, CountFn counts);
  ~H2Pool();

  Request* NewRequest();
  // Sends `r` (its `request` or `own` set, `observer` chosen) on a connection with room.
  void Submit(Request* r, Nanos now);
  // The VU no longer waits for `r`: its stream is cancelled, `done` will not run.
  void Abandon(Request* r);
  void FlushPending(Nanos now);
  void Scan(Nanos now);  // connect timeouts
  void Close();
  size_t connections() const { return clients_.size(); }

 private:
  struct Slot {
    std::unique_ptr<h2::H2Client> client;
    std::vector<Request*> pending;  // waiting for this connection to be ready
    bool dirty = false;
  };
  void OnStreamDone(h2::H2Stream* stream, uint32_t error_code, bool refused) override;
  void OnReady(h2::H2Client& client, Nanos now) override;
  void OnDown(h2::H2Client& client, std::optional<Failure> failure, bool was_ready, Nanos now) override;
  void OnBytes(int64_t sent, int64_t received) override { counts_(sent, received, 0); }
  size_t IndexOf(const h2::H2Client& c) const;
  void Free(Request* r);
  void Finish(Request* r, uint32_t error_code, std::optional<Failure> failure, Nanos now);
  bool SubmitOn(size_t slot, Request* r);

  Poller& poller_;
  const TlsContext* tls_;
  std::vector<char>& buf_;
  Endpoint endpoint_;
  std::string server_name_;
  int streams_;
  Nanos connect_timeout_;
  DoneFn done_;
  CountFn counts_;
  std::vector<Slot> clients_;
  std::vector<std::unique_ptr<Request>> all_;
  std::vector<Request*> free_;
};

}  // namespace loadcell
