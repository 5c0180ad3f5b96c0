// Name resolution, done once before a run so that no worker ever blocks on DNS.
#pragma once

#include <sys/socket.h>

#include <string>

#include "common/result.h"

namespace loadcell {

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string ToString() const;  // "127.0.0.1:8080" / "[::1]:8080"
};

// The first address getaddrinfo() returns for host:port (TCP).
Result<Endpoint> Resolve(const std::string& host, uint16_t port);

}  // namespace loadcell
