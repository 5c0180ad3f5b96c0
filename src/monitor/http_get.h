// A blocking HTTP GET for the monitor sources (a service's /metrics, Prometheus's query
// API), on libcurl: TLS, proxies from the environment, keep-alive between reads. Runs on
// the monitor's own thread, never on a load worker.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/result.h"

namespace loadcell {

struct HttpGetOptions {
  Nanos timeout = 2 * kSecond;
  std::string bearer_token;                // Authorization: Bearer ...
  std::string basic_user, basic_password;  // or Basic (when a user is set)
  bool insecure = false;                   // do not verify the server's certificate
  size_t max_bytes = 16 << 20;             // a larger body is an error, not read further
};

class HttpGetter {
 public:
  explicit HttpGetter(HttpGetOptions options);
  ~HttpGetter();
  HttpGetter(const HttpGetter&) = delete;
  HttpGetter& operator=(const HttpGetter&) = delete;

  // The body of a 2xx answer; any other status, a timeout or a transport error is an error
  // naming the URL (its password, if any, left out).
  Result<std::string> Get(const std::string& url);

 private:
  HttpGetOptions options_;
  void* curl_;  // CURL*
};

}  // namespace loadcell
