// The built-in target's small demo API, so that journeys (log in, capture a token, use it)
// run offline against `loadcell target`:
//
//   POST /auth/login   {"user": U, "password": P}  -> 200 {"token": T}   (400 without a user)
//   GET  /items        Authorization: Bearer T       -> 200 {"items": [...]} (401 otherwise)
//   GET  /items/N      Authorization: Bearer T       -> 200 {"id": N, ...}   (401 otherwise)
//   *    /echo         -> 200 with the request body and its Content-Type
//   GET  /health       -> 200 {"status": "ok"}
//   POST /jobs?ready_ms=N  -> 202 {"id": ID}: an asynchronous job, ready N ms later (default 300)
//   GET  /jobs/ID      -> 202 {"state": "pending"} until it is ready, then 200 {"state": "done"}
//
// Tokens and jobs are stateless (a token is the user name and a keyed hash; a job's id its
// creation time and delay), so every server thread accepts what any other thread issued.
// Pure functions: no I/O, the time given, tested on their own.
#pragma once

#include <cstdint>
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
                        std::string_view content_type, std::string_view body, int64_t now_ms = 0);

std::string IssueToken(std::string_view user);
bool ValidToken(std::string_view token);

}  // namespace loadcell
