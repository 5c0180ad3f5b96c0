// Why a request, a message or a query ended without a usable answer: one vocabulary for
// every protocol and both engines. A failure's name is what users see — the `kind` tag of
// http_req_errors, ws_errors and sql_errors, the keys of quick's error counts, the reason
// of the close frame a failing WebSocket sends — so names never change once released.
#pragma once

#include <cstdint>

namespace loadcell {

enum class Failure : uint8_t {
  // The first five are those `quick` counts (Counters::failures is indexed by them).
  kConnect,         // the TCP connection could not be made
  kTimeout,         // no (complete) answer before the request's timeout
  kReset,           // the connection broke, or the server reset the stream
  kProtocol,        // the answer was not valid for its protocol
  kTls,             // the TLS handshake or certificate failed
  kConnectTimeout,  // the connection (with its TLS and upgrade) did not complete in time
  kLocalLimit,      // the generator's own limit: file descriptors, local ports
  kHandshake,       // WebSocket: the upgrade was refused or its answer was invalid
  kServerClosed,    // WebSocket: the server closed with a code other than 1000/1001
  kReceiveTimeout,  // WebSocket: an awaited message did not come in time
  kRender,          // a template of the step could not be rendered
  kQuery,           // PostgreSQL: the server answered the query with an error
  kConnectionLost,  // PostgreSQL: the connection was lost during the query
};
constexpr int kFailureCount = 13;

constexpr const char* FailureName(Failure f) {
  switch (f) {
    case Failure::kConnect: return "connect";
    case Failure::kTimeout: return "timeout";
    case Failure::kReset: return "reset";
    case Failure::kProtocol: return "protocol";
    case Failure::kTls: return "tls";
    case Failure::kConnectTimeout: return "connect_timeout";
    case Failure::kLocalLimit: return "local_limit";
    case Failure::kHandshake: return "handshake";
    case Failure::kServerClosed: return "server_closed";
    case Failure::kReceiveTimeout: return "receive_timeout";
    case Failure::kRender: return "render";
    case Failure::kQuery: return "query";
    case Failure::kConnectionLost: return "connection";
  }
  return "unknown";
}

}  // namespace loadcell
