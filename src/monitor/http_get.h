// A blocking HTTP GET for the monitor sources (a service's /metrics, Prometheus's query
// API) and POST for alert notifications, on libcurl: TLS, proxies from the environment, keep-alive between reads. Runs
// on the monitor's own thread, never on a load worker.
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
  std::string user_agent = "loadcell-monitor";
};

class HttpGetter {
 public:
  explicit HttpGetter(HttpGetOptions options);
  ~HttpGetter();
  HttpGetter(const HttpGetter&) = delete;
  HttpGetter& operator=(const HttpGetter&) = delete;

  struct Answer {
    long status = 0;
    std::string body;
  };
  // The answer, whatever its status; a timeout, a transport error or a body over the
  // limit is an error (without the URL: the caller names what it asked).
  Result<Answer> Get(const std::string& url);
  // The body of a 2xx answer; another status is an error naming it.
  Result<std::string> GetBody(const std::string& url);
  // A POST of `body` (alert notifications); the answer, whatever its status.
  Result<Answer> Post(const std::string& url, const std::string& body, const std::string& content_type);

 private:
  Result<Answer> Perform(const std::string& url, const std::string* post, const std::string& content_type);
  HttpGetOptions options_;
  void* curl_;  // CURL*
};

}  // namespace loadcell
