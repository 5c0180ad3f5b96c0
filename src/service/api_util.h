// Small pieces every API handler uses: JSON answers, errors as {"error": "..."} with the
// right status, the request body as a JSON object, ids from the path, query integers.
#pragma once

#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include "net/http_server.h"

#include "common/result.h"
#include "scenario/loader.h"

namespace loadcell::api {

inline void Json(http::Response& res, const nlohmann::json& body, int status = 200) {
  res.status = status;
  res.SetContent(body.dump(), "application/json");
}

inline void Fail(http::Response& res, int status, const std::string& message) {
  Json(res, {{"error", message}}, status);
}

// The body as a JSON object; on failure answers 400 naming the problem and returns nullopt.
inline std::optional<nlohmann::json> Body(const http::Request& req, http::Response& res) {
  auto j = nlohmann::json::parse(req.body, nullptr, false);
  if (j.is_discarded()) {
    Fail(res, 400, "request body: not valid JSON");
    return std::nullopt;
  }
  if (!j.is_object()) {
    Fail(res, 400, "request body: expected a JSON object");
    return std::nullopt;
  }
  return j;
}

// A list answer, {"<key>": [each item as JSON]}, or 500 with the store's error.
template <typename T, typename ToJson>
void List(http::Response& res, const Result<std::vector<T>>& items, const char* key, ToJson to_json) {
  if (!items.ok()) return Fail(res, 500, items.error().message);
  nlohmann::json out = nlohmann::json::array();
  for (const T& item : *items) out.push_back(to_json(item));
  Json(res, {{key, out}});
}

// The object a store lookup found; nullopt after answering 500 (the store failed) or 404
// ("no <what> with id <id>").
template <typename T>
std::optional<T> Found(const Result<std::optional<T>>& got, const char* what, int64_t id, http::Response& res) {
  if (!got.ok()) {
    Fail(res, 500, got.error().message);
    return std::nullopt;
  }
  if (!got->has_value()) {
    Fail(res, 404, fmt::format("no {} with id {}", what, id));
    return std::nullopt;
  }
  return **got;
}

// An id in a path that no resource can have (beyond int64): answered 404 by the server.
struct NoSuchId {
  std::string text;
};

// "files": {"users.csv": "id,name\n..."} of a request body (absent: none). On failure
// answers 400 naming the file and returns nullopt.
inline std::optional<std::map<std::string, std::string>> FilesField(const nlohmann::json& body, http::Response& res) {
  std::map<std::string, std::string> files;
  if (!body.contains("files")) return files;
  const nlohmann::json& f = body["files"];
  if (!f.is_object()) {
    Fail(res, 400, "files: expected an object of file names and their text");
    return std::nullopt;
  }
  for (const auto& [name, content] : f.items()) {
    if (!content.is_string()) {
      Fail(res, 400, fmt::format("files.{}: expected the file's text", name));
      return std::nullopt;
    }
    if (!IsConfinedPath(name)) {
      Fail(res, 400, fmt::format("files.{}: a file name is a relative path without `..`", name));
      return std::nullopt;
    }
    files[name] = content.get<std::string>();
  }
  return files;
}

// A stored object of files (StoredTest::files) as a map.
inline std::map<std::string, std::string> FilesOf(const std::string& stored) {
  std::map<std::string, std::string> files;
  auto j = nlohmann::json::parse(stored, nullptr, false);
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (v.is_string()) files[k] = v.get<std::string>();
    }
  }
  return files;
}

inline int64_t PathId(const http::Request& req, size_t i = 1) {
  const std::string s = req.matches[i];
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) throw NoSuchId{s};
  return v;
}

// A query parameter as an integer; `bad` set when present but not one.
inline std::optional<int64_t> QueryInt(const http::Request& req, const char* name, bool* bad) {
  if (!req.HasParam(name)) return std::nullopt;
  std::string v = req.Param(name);
  try {
    size_t used = 0;
    int64_t n = std::stoll(v, &used);
    if (used == v.size()) return n;
  } catch (const std::exception&) {
  }
  *bad = true;
  return std::nullopt;
}

// A string member of `body`, or nullopt when absent; 400 (and `*failed`) when not a string.
inline std::optional<std::string> StringField(const nlohmann::json& body, const char* name, http::Response& res,
                                              bool* failed) {
  if (!body.contains(name)) return std::nullopt;
  if (!body[name].is_string()) {
    Fail(res, 400, std::string(name) + ": expected a string");
    *failed = true;
    return std::nullopt;
  }
  return body[name].get<std::string>();
}

}  // namespace loadcell::api
