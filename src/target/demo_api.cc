#include "target/demo_api.h"

#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace loadcell {
namespace {

// FNV-1a over a fixed key and the user: enough to tell issued tokens from made-up ones in
// a test server; not a security mechanism.
uint64_t Mac(std::string_view user) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : std::string_view("loadcell-demo-key:")) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ULL;
  for (char c : user) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ULL;
  return h;
}

std::string_view PathOnly(std::string_view target) { return target.substr(0, target.find('?')); }

}  // namespace

std::string IssueToken(std::string_view user) { return fmt::format("tok.{}.{:016x}", user, Mac(user)); }

bool ValidToken(std::string_view token) {
  if (!token.starts_with("tok.")) return false;
  size_t dot = token.rfind('.');
  if (dot <= 4) return false;
  std::string_view user = token.substr(4, dot - 4);
  return token.substr(dot + 1) == fmt::format("{:016x}", Mac(user));
}

bool IsDemoPath(std::string_view method, std::string_view target) {
  std::string_view p = PathOnly(target);
  return (p == "/auth/login" && method == "POST") || p == "/items" || p.starts_with("/items/") || p == "/echo" ||
         p == "/health" || (p == "/jobs" && method == "POST") || p.starts_with("/jobs/");
}

bool DemoNeedsBody(std::string_view target) {
  std::string_view p = PathOnly(target);
  return p == "/auth/login" || p == "/echo";
}

DemoResponse HandleDemo(std::string_view method, std::string_view target, std::string_view authorization,
                        std::string_view content_type, std::string_view body, int64_t now_ms) {
  std::string_view p = PathOnly(target);
  DemoResponse r;
  if (p == "/jobs" && method == "POST") {
    int64_t delay = 300;
    size_t q = target.find("ready_ms=");
    if (q != std::string_view::npos) {
      std::string_view v = target.substr(q + 9);
      auto res = std::from_chars(v.data(), v.data() + v.size(), delay);
      if (res.ec != std::errc() || delay < 0 || delay > 3600000) {
        r.status = 400;
        r.body = R"({"error":"ready_ms is 0 to 3600000"})";
        return r;
      }
    }
    r.status = 202;
    r.body = fmt::format(R"({{"id":"{}-{}"}})", now_ms, delay);
    return r;
  }
  if (p.starts_with("/jobs/")) {
    std::string_view id = p.substr(6);
    size_t dash = id.find('-');
    int64_t created = 0, delay = 0;
    bool ok = dash != std::string_view::npos &&
              std::from_chars(id.data(), id.data() + dash, created).ptr == id.data() + dash &&
              std::from_chars(id.data() + dash + 1, id.data() + id.size(), delay).ptr == id.data() + id.size();
    if (!ok) {
      r.status = 404;
      r.body = R"({"error":"no such job"})";
      return r;
    }
    const bool done = now_ms >= created + delay;
    r.status = done ? 200 : 202;
    r.body = done ? R"({"state":"done"})" : R"({"state":"pending"})";
    return r;
  }
  if (p == "/health") {
    r.body = R"({"status":"ok"})";
    return r;
  }
  if (p == "/echo") {
    r.content_type = content_type.empty() ? "application/octet-stream" : std::string(content_type);
    r.body = std::string(body);
    return r;
  }
  if (p == "/auth/login" && method == "POST") {
    nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("user") || !j["user"].is_string() ||
        j["user"].get<std::string>().empty()) {
      r.status = 400;
      r.body = R"({"error":"expected {\"user\": ..., \"password\": ...}"})";
      return r;
    }
    r.body = nlohmann::json{{"token", IssueToken(j["user"].get<std::string>())}}.dump();
    return r;
  }
  // /items and /items/N need a token.
  std::string_view token = authorization.starts_with("Bearer ") ? authorization.substr(7) : std::string_view();
  if (!ValidToken(token)) {
    r.status = 401;
    r.body = R"({"error":"missing or invalid bearer token"})";
    return r;
  }
  if (p == "/items") {
    nlohmann::json items = nlohmann::json::array();
    for (int i = 1; i <= 10; ++i) items.push_back({{"id", i}, {"name", fmt::format("item-{}", i)}});
    r.body = nlohmann::json{{"items", items}}.dump();
    return r;
  }
  std::string_view id_text = p.substr(7);
  int id = 0;
  auto res = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (res.ec != std::errc() || res.ptr != id_text.data() + id_text.size() || id < 1 || id > 10) {
    r.status = 404;
    r.body = R"({"error":"no such item"})";
    return r;
  }
  r.body = nlohmann::json{{"id", id}, {"name", fmt::format("item-{}", id)}}.dump();
  return r;
}

}  // namespace loadcell
