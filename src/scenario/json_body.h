// A `json:` request body compiled once: the JSON text between its templated strings, and
// a slot for each of them. A string that is one whole template keeps its value's type
// ("{{ vu }}" sends 65, a captured object sends the object); any other templated string
// stays a string, its rendered text escaped as JSON requires.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "scenario/template.h"

namespace loadcell {

class JsonBody {
 public:
  struct Slot {
    Template value;
    bool key = false;  // an object key: always a string
  };

  // What stands for slot `i` in the document given to Build (a string no YAML file holds).
  static std::string Marker(size_t i);
  // `doc` holds Marker(i) where slots[i] goes. Fails on text that is not UTF-8.
  static Result<JsonBody> Build(const nlohmann::ordered_json& doc, std::vector<Slot> slots);

  bool is_literal() const { return slots_.empty(); }
  const std::string& literal() const { return literals_[0]; }  // only when is_literal()
  Result<std::string> Render(TemplateContext& ctx) const;

 private:
  std::vector<std::string> literals_{""};  // one more than the slots, around them in order
  std::vector<Slot> slots_;                // in the order they appear in the text
};

}  // namespace loadcell
