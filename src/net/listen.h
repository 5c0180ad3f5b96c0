// Listening sockets, shared by the built-in target and `loadcell proxy`.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "net/resolver.h"

namespace loadcell {

// "127.0.0.1:8080", "[::1]:0" -> host and port (0 picks a free one).
bool SplitHostPort(const std::string& address, std::string* host, int* port);
// A non-blocking listening socket (SO_REUSEADDR and SO_REUSEPORT, so that several threads
// can each accept on the same port).
Result<int> ListenTcp(const Endpoint& ep);
// The port a socket is bound to (what port 0 became).
uint16_t BoundPort(int fd);

}  // namespace loadcell
