#include "scenario/json_body.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace loadcell {

std::string JsonBody::Marker(size_t i) { return fmt::format("\x01loadcell-slot-{}\x01", i); }

Result<JsonBody> JsonBody::Build(const nlohmann::ordered_json& doc, std::vector<Slot> slots) {
  std::string text;
  try {
    text = doc.dump();
  } catch (const nlohmann::json::type_error&) {
    return Error::InvalidArgument("a JSON body must be valid UTF-8");
  }
  // Each marker appears exactly once, quoted, as JSON escapes it.
  std::vector<std::pair<size_t, size_t>> at;  // (offset in text, slot index)
  for (size_t i = 0; i < slots.size(); ++i) {
    std::string quoted = nlohmann::json(Marker(i)).dump();
    size_t pos = text.find(quoted);
    if (pos == std::string::npos) return Error::Internal(fmt::format("JSON body: slot {} not found", i));
    at.emplace_back(pos, i);
  }
  std::sort(at.begin(), at.end());
  JsonBody b;
  b.literals_.clear();
  size_t from = 0;
  for (const auto& [pos, i] : at) {
    b.literals_.push_back(text.substr(from, pos - from));
    from = pos + nlohmann::json(Marker(i)).dump().size();
    b.slots_.push_back(std::move(slots[i]));
  }
  b.literals_.push_back(text.substr(from));
  return b;
}

Result<std::string> JsonBody::Render(TemplateContext& ctx) const {
  std::string out = literals_[0];
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (s.key) {
      auto k = s.value.Render(ctx);
      if (!k.ok()) return k.error();
      out += nlohmann::json(*k).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      auto v = s.value.RenderJson(ctx);
      if (!v.ok()) return v.error();
      out += *v;
    }
    out += literals_[i + 1];
  }
  return out;
}

}  // namespace loadcell
