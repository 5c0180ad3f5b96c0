// Checks and captures evaluated against one response. The VU collects the response with
// ResponseCollector (headers, and the body up to a bound) only for requests that have
// checks or captures; every other response is streamed and dropped.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/http1/response_parser.h"
#include "scenario/definition.h"

namespace loadcell {

class ResponseCollector final : public http1::ResponseObserver {
 public:
  static constexpr size_t kMaxBody = 1 << 20;  // bodies beyond 1 MiB are cut for checks

  void Clear() {
    headers_.clear();
    body_.clear();
    truncated_ = false;
  }
  void OnHeader(std::string_view name, std::string_view value) override { headers_.emplace_back(name, value); }
  void OnBody(std::string_view chunk) override;
  void OnStart() override { Clear(); }

  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
  std::string_view body() const { return body_; }
  bool truncated() const { return truncated_; }

 private:
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string body_;
  bool truncated_ = false;
};

struct ResponseView {
  int status = 0;
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;
  std::string_view body;
  Nanos duration = 0;
};

class ResponseEvaluator {
 public:
  explicit ResponseEvaluator(const ResponseView& r) : r_(r) {}

  // Whether the check passes; `observed` says what was seen (for failure messages).
  bool Evaluate(const Check& c, std::string* observed = nullptr);
  // The captured value, or nothing when the response does not have it. `json`, when
  // given, says whether the value is JSON text (a JSON capture of anything but a string).
  std::optional<std::string> Extract(const Capture& c, bool* json = nullptr);

 private:
  const nlohmann::json* Json();  // the body parsed once, on first use; null if not JSON
  std::optional<std::string> Header(const std::string& name) const;

  const ResponseView& r_;
  bool parsed_ = false;
  nlohmann::json json_;
};

}  // namespace loadcell
