// The JSONPath subset captures and checks use: $.a.b[0].c, $['a b'], $.items[*].id,
// $.*.name. With a wildcard the first match (in document order) is the result.
// Parsed once when the test is loaded.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace loadcell {

class JsonPath {
 public:
  // Errors give the offending position through error_offset.
  static Result<JsonPath> Parse(std::string_view text, size_t* error_offset = nullptr);

  // The first value the path selects, or null when nothing matches.
  const nlohmann::json* FirstMatch(const nlohmann::json& doc) const;
  const std::string& text() const { return text_; }

 private:
  struct Wildcard {};
  using Segment = std::variant<std::string, size_t, Wildcard>;
  const nlohmann::json* Walk(const nlohmann::json& node, size_t i) const;

  std::string text_;
  std::vector<Segment> segments_;
};

// A JSON value as text for captures and comparisons: strings without quotes, the rest
// as compact JSON.
std::string JsonText(const nlohmann::json& v);

}  // namespace loadcell
