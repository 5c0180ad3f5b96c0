// The built-in target's small demo API, so that journeys (log in, capture a token, use it)
// run offline against `loadcell target`:
//
//   POST /auth/login   {"user": U, "password": P}  -> 200 {"token": T}   (400 without a user)
//   GET  /items        Authorization: Bearer T       -> 200 {"items": [...]} (401 otherwise)
//   GET  /items/N      Authorization: Bearer T       -> 200 {"id": N, ...}   (401 otherwise)
//   *    /echo         -> 200 with the request body and its Content-Type
//   GET  /health       -> 200 {"status": "ok"}
//
// Tokens are stateless (the user name and a keyed hash), so every server thread accepts
// tokens any other thread issued. Pure functions: no I/O, tested on their own.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace loadcell {

struct DemoResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// True for paths the demo API answers (the rest get the plain configurable response).
bool IsDemoPath(std::string_view method, std::string_view target);
// Whether the handler needs the request body (so the server must buffer it).
bool DemoNeedsBody(std::string_view target);
DemoResponse HandleDemo(std::string_view method, std::string_view target, std::string_view authorization,
                        std::string_view content_type, std::string_view body);

std::string IssueToken(std::string_view user);
bool ValidToken(std::string_view token);

}  // namespace loadcell
