#include "scenario/response_eval.h"

#include <algorithm>

#include <fmt/format.h>

#include "protocol/http1/ascii.h"

namespace loadcell {

void ResponseCollector::OnBody(std::string_view chunk) {
  size_t room = kMaxBody - body_.size();
  if (chunk.size() > room) {
    truncated_ = true;
    chunk = chunk.substr(0, room);
  }
  body_.append(chunk);
}

const nlohmann::json* ResponseEvaluator::Json() {
  if (!parsed_) {
    parsed_ = true;
    json_ = nlohmann::json::parse(r_.body, nullptr, false);
  }
  return json_.is_discarded() ? nullptr : &json_;
}

std::optional<std::string> ResponseEvaluator::Header(const std::string& name) const {
  if (r_.headers == nullptr) return std::nullopt;
  for (const auto& [n, v] : *r_.headers) {
    if (http1::IEquals(n, name)) return v;
  }
  return std::nullopt;
}

bool ResponseEvaluator::Evaluate(const Check& c, std::string* observed) {
  std::string seen;
  bool ok = false;
  switch (c.kind) {
    case Check::Kind::kStatus:
      ok = std::find(c.statuses.begin(), c.statuses.end(), r_.status) != c.statuses.end();
      seen = fmt::format("status {}", r_.status);
      break;
    case Check::Kind::kBodyContains:
      ok = r_.body.find(c.subject) != std::string_view::npos;
      seen = ok ? "found" : "not in the body";
      break;
    case Check::Kind::kJson: {
      const nlohmann::json* doc = Json();
      const nlohmann::json* v = doc != nullptr && c.path ? c.path->FirstMatch(*doc) : nullptr;
      if (v == nullptr) {
        seen = doc == nullptr ? "body is not JSON" : "no match";
      } else {
        seen = JsonText(*v);
        ok = !c.equals || seen == *c.equals;
      }
      break;
    }
    case Check::Kind::kHeader: {
      auto h = Header(c.subject);
      seen = h ? *h : "absent";
      ok = h.has_value() && (!c.equals || *h == *c.equals);
      break;
    }
    case Check::Kind::kMaxDuration:
      ok = r_.duration <= c.max_duration;
      seen = fmt::format("{:.3f}ms", static_cast<double>(r_.duration) / 1e6);
      break;
  }
  if (observed != nullptr) *observed = std::move(seen);
  return ok;
}

std::optional<std::string> ResponseEvaluator::Extract(const Capture& c, bool* json) {
  if (json != nullptr) *json = false;
  switch (c.kind) {
    case Capture::Kind::kJson: {
      const nlohmann::json* doc = Json();
      if (doc == nullptr || !c.path) return std::nullopt;
      const nlohmann::json* v = c.path->FirstMatch(*doc);
      if (v == nullptr) return std::nullopt;
      if (json != nullptr) *json = !v->is_string();
      return JsonText(*v);
    }
    case Capture::Kind::kHeader: return Header(c.source);
    case Capture::Kind::kRegex: {
      if (!c.regex) return std::nullopt;
      std::match_results<std::string_view::const_iterator> m;
      if (!std::regex_search(r_.body.begin(), r_.body.end(), m, *c.regex)) return std::nullopt;
      return m.size() > 1 ? m[1].str() : m[0].str();
    }
  }
  return std::nullopt;
}

}  // namespace loadcell
