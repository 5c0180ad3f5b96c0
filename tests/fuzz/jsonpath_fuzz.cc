// libFuzzer: JSONPath expressions and the bodies they run on come from users and servers.
#include <cstddef>
#include <cstdint>
#include <string>

#include "scenario/jsonpath.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t split = input.find('\n');
  std::string_view path = input.substr(0, split);
  std::string_view body = split == std::string_view::npos ? std::string_view("{}") : input.substr(split + 1);
  auto p = loadcell::JsonPath::Parse(path);
  if (!p.ok()) return 0;
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded()) return 0;
  if (const nlohmann::json* v = p->FirstMatch(doc)) (void)loadcell::JsonText(*v);
  return 0;
}
