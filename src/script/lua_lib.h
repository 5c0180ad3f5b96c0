// The helpers a script and an expression have (k6's encoding, crypto and random
// functions, in Lua): json.encode/decode, base64.encode/decode, hex.encode/decode,
// url.encode/decode, crypto.md5/sha1/sha256/sha512 and crypto.hmac, uuid(),
// random_int(a, b), random_string(n), now_ms() — the same four functions templates know.
// Random values come from the worker's seeded generator.
#pragma once

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/rng.h"

struct lua_State;

namespace loadcell::script {

void OpenLibrary(lua_State* L, Xoshiro256& rng);

// JSON onto the stack: objects and arrays as tables (arrays from 1), null as nil.
void PushJson(lua_State* L, const nlohmann::json& j);
// The value at `idx` as JSON: a table with keys 1..n is an array, any other an object
// (an empty table is {}); functions, userdata and cycles are errors.
Result<nlohmann::json> ToJson(lua_State* L, int idx);

}  // namespace loadcell::script
