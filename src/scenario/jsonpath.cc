#include "scenario/jsonpath.h"

#include <cctype>

#include <fmt/format.h>

namespace loadcell {

Result<JsonPath> JsonPath::Parse(std::string_view text, size_t* error_offset) {
  JsonPath p;
  p.text_ = std::string(text);
  size_t i = 0;
  auto fail = [&](const std::string& why) {
    if (error_offset != nullptr) *error_offset = i;
    return Error::InvalidArgument(fmt::format("invalid JSONPath \"{}\": {}", text, why));
  };
  if (text.empty() || text[0] != '$') return fail("must start with $");
  ++i;
  while (i < text.size()) {
    if (text[i] == '.') {
      ++i;
      if (i < text.size() && text[i] == '*') {
        p.segments_.emplace_back(Wildcard{});
        ++i;
        continue;
      }
      size_t start = i;
      while (i < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[i])) != 0 || text[i] == '_' || text[i] == '-')) {
        ++i;
      }
      if (i == start) return fail("expected a member name after '.'");
      p.segments_.emplace_back(std::string(text.substr(start, i - start)));
    } else if (text[i] == '[') {
      ++i;
      if (i < text.size() && text[i] == '*') {
        ++i;
        p.segments_.emplace_back(Wildcard{});
      } else if (i < text.size() && (text[i] == '\'' || text[i] == '"')) {
        char q = text[i++];
        size_t start = i;
        while (i < text.size() && text[i] != q) ++i;
        if (i >= text.size()) return fail("unterminated quoted name");
        p.segments_.emplace_back(std::string(text.substr(start, i - start)));
        ++i;
      } else {
        size_t start = i;
        size_t n = 0;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
          n = n * 10 + static_cast<size_t>(text[i] - '0');
          ++i;
        }
        if (i == start) return fail("expected an index, '*' or a quoted name in [ ]");
        p.segments_.emplace_back(n);
      }
      if (i >= text.size() || text[i] != ']') return fail("expected ']'");
      ++i;
    } else {
      return fail(fmt::format("unexpected '{}'", text[i]));
    }
  }
  return p;
}

const nlohmann::json* JsonPath::Walk(const nlohmann::json& node, size_t i) const {
  if (i == segments_.size()) return &node;
  const Segment& seg = segments_[i];
  if (const auto* name = std::get_if<std::string>(&seg)) {
    if (!node.is_object()) return nullptr;
    auto it = node.find(*name);
    return it == node.end() ? nullptr : Walk(*it, i + 1);
  }
  if (const auto* index = std::get_if<size_t>(&seg)) {
    if (!node.is_array() || *index >= node.size()) return nullptr;
    return Walk(node[*index], i + 1);
  }
  if (node.is_array() || node.is_object()) {
    for (const auto& child : node) {
      if (const nlohmann::json* found = Walk(child, i + 1)) return found;
    }
  }
  return nullptr;
}

const nlohmann::json* JsonPath::FirstMatch(const nlohmann::json& doc) const { return Walk(doc, 0); }

std::string JsonText(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace loadcell
