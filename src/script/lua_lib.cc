#include "script/lua_lib.h"

#include <lua5.4/lauxlib.h>
#include <lua5.4/lua.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>
#include <string>

#include <fmt/format.h>

#include "net/url.h"

namespace loadcell::script {
namespace {

constexpr int kMaxDepth = 64;

Xoshiro256& RngOf(lua_State* L) { return *static_cast<Xoshiro256*>(lua_touserdata(L, lua_upvalueindex(1))); }

std::string_view Arg(lua_State* L, int i) {
  size_t len = 0;
  const char* s = luaL_checklstring(L, i, &len);
  return {s, len};
}

void Push(lua_State* L, std::string_view s) { lua_pushlstring(L, s.data(), s.size()); }

std::string HexOf(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string Base64Of(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Lua raises errors with longjmp (Debian builds it as C): a C++ object alive in a frame it
// jumps over is never destroyed. So no function here raises an error while it holds one:
// they check their arguments first, or leave a block before raising.

// The digest's output as asked: "hex" (the default), "base64" or "binary".
int PushDigest(lua_State* L, std::string_view raw, int encoding_arg) {
  const char* enc = luaL_optstring(L, encoding_arg, "hex");
  std::string_view e = enc;
  if (e == "hex")
    Push(L, HexOf(raw));
  else if (e == "base64")
    Push(L, Base64Of(raw));
  else if (e == "binary")
    Push(L, raw);
  else
    return luaL_error(L, "unknown encoding \"%s\" (hex, base64, binary)", enc);
  return 1;
}

// `name` is a Lua string's view (NUL-terminated).
const EVP_MD* Digest(lua_State* L, std::string_view name) {
  if (name == "md5") return EVP_md5();
  if (name == "sha1") return EVP_sha1();
  if (name == "sha256") return EVP_sha256();
  if (name == "sha384") return EVP_sha384();
  if (name == "sha512") return EVP_sha512();
  luaL_error(L, "unknown hash \"%s\" (md5, sha1, sha256, sha384, sha512)", name.data());
  return nullptr;
}

template <const char* kName>
int Hash(lua_State* L) {
  std::string_view data = Arg(L, 1);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, Digest(L, kName), nullptr);
  return PushDigest(L, {reinterpret_cast<char*>(md), len}, 2);
}
constexpr char kMd5[] = "md5";
constexpr char kSha1[] = "sha1";
constexpr char kSha256[] = "sha256";
constexpr char kSha512[] = "sha512";

// crypto.hmac(hash, key, data [, encoding])
int Hmac(lua_State* L) {
  const EVP_MD* md = Digest(L, Arg(L, 1));
  std::string_view key = Arg(L, 2), data = Arg(L, 3);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
       out, &len);
  return PushDigest(L, {reinterpret_cast<char*>(out), len}, 4);
}

int HexEncode(lua_State* L) {
  Push(L, HexOf(Arg(L, 1)));
  return 1;
}

int HexDecode(lua_State* L) {
  std::string_view s = Arg(L, 1);
  if (s.size() % 2 != 0) return luaL_error(L, "hex.decode: odd length");
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (nib(s[i]) < 0) return luaL_error(L, "hex.decode: not a hex digit at %d", static_cast<int>(i) + 1);
  }
  std::string out;
  for (size_t i = 0; i < s.size(); i += 2) out += static_cast<char>(nib(s[i]) * 16 + nib(s[i + 1]));
  Push(L, out);
  return 1;
}

int Base64Encode(lua_State* L) {
  Push(L, Base64Of(Arg(L, 1)));
  return 1;
}

int Base64Decode(lua_State* L) {
  std::string_view arg = Arg(L, 1);
  bool ok = true;
  {
    std::string text(arg);
    // URL-safe alphabet and missing padding are accepted too.
    for (char& c : text) {
      if (c == '-') c = '+';
      if (c == '_') c = '/';
    }
    while (text.size() % 4 != 0) text += '=';
    std::string out(text.size() / 4 * 3, '\0');
    int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                              reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (len < 0) {
      ok = false;
    } else {
      size_t pad = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
      out.resize(static_cast<size_t>(len) - pad);
      Push(L, out);
    }
  }
  if (!ok) return luaL_error(L, "base64.decode: not base64");
  return 1;
}

int UrlEncode(lua_State* L) {
  std::string_view s = Arg(L, 1);
  Push(L, PercentEncode(s));
  return 1;
}

int UrlDecode(lua_State* L) {
  std::string_view s = Arg(L, 1);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() + 0 && std::isxdigit(static_cast<unsigned char>(s[i + 1])) != 0 &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2])) != 0) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  Push(L, out);
  return 1;
}

int JsonEncode(lua_State* L) {
  luaL_checkany(L, 1);
  char error[256] = {0};
  {
    auto j = ToJson(L, 1);
    if (j.ok())
      Push(L, j->dump());
    else
      std::snprintf(error, sizeof error, "%s", j.error().message.c_str());
  }
  if (error[0] != 0) return luaL_error(L, "json.encode: %s", error);
  return 1;
}

int JsonDecode(lua_State* L) {
  std::string_view text = Arg(L, 1);
  bool ok = true;
  {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded())
      ok = false;
    else
      PushJson(L, j);
  }
  if (!ok) return luaL_error(L, "json.decode: not JSON");
  return 1;
}

int Uuid(lua_State* L) {
  Xoshiro256& rng = RngOf(L);
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  Push(L, fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48,
                      lo & 0xffffffffffffULL));
  return 1;
}

int RandomInt(lua_State* L) {
  lua_Integer lo = luaL_checkinteger(L, 1), hi = luaL_checkinteger(L, 2);
  if (hi < lo) return luaL_error(L, "random_int(a, b) needs a <= b");
  lua_pushinteger(L, std::uniform_int_distribution<lua_Integer>(lo, hi)(RngOf(L)));
  return 1;
}

int RandomString(lua_State* L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  if (n < 0 || n > (1 << 24)) return luaL_error(L, "random_string(n) needs 0 <= n <= 16777216");
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  Xoshiro256& rng = RngOf(L);
  std::string s(static_cast<size_t>(n), ' ');
  for (char& c : s) c = kAlphabet[rng() % 62];
  Push(L, s);
  return 1;
}

int NowMs(lua_State* L) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  lua_pushinteger(L, static_cast<lua_Integer>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000);
  return 1;
}

void Table(lua_State* L, const char* name, std::initializer_list<luaL_Reg> fns) {
  lua_newtable(L);
  for (const luaL_Reg& f : fns) {
    lua_pushcfunction(L, f.func);
    lua_setfield(L, -2, f.name);
  }
  lua_setglobal(L, name);
}

Status ToJsonAt(lua_State* L, int idx, int depth, nlohmann::json* out) {
  if (depth > kMaxDepth) return Error::InvalidArgument("nested deeper than 64 levels (a cycle?)");
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
    case LUA_TNIL: *out = nullptr; return {};
    case LUA_TBOOLEAN: *out = lua_toboolean(L, idx) != 0; return {};
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx) != 0) {
        *out = static_cast<int64_t>(lua_tointeger(L, idx));
      } else {
        double d = lua_tonumber(L, idx);
        if (!std::isfinite(d)) return Error::InvalidArgument("a number that is not finite");
        *out = d;
      }
      return {};
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, idx, &len);
      *out = std::string(s, len);
      return {};
    }
    case LUA_TTABLE: {
      lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, idx));
      size_t keys = 0;
      lua_pushnil(L);
      while (lua_next(L, idx) != 0) {
        ++keys;
        lua_pop(L, 1);
      }
      if (n > 0 && static_cast<size_t>(n) == keys) {
        *out = nlohmann::json::array();
        for (lua_Integer i = 1; i <= n; ++i) {
          lua_rawgeti(L, idx, i);
          nlohmann::json item;
          Status s = ToJsonAt(L, -1, depth + 1, &item);
          lua_pop(L, 1);
          if (!s.ok()) return s;
          out->push_back(std::move(item));
        }
        return {};
      }
      *out = nlohmann::json::object();
      lua_pushnil(L);
      while (lua_next(L, idx) != 0) {
        std::string key;
        if (lua_type(L, -2) == LUA_TSTRING) {
          key = lua_tostring(L, -2);
        } else if (lua_type(L, -2) == LUA_TNUMBER) {
          lua_pushvalue(L, -2);
          key = lua_tostring(L, -1);
          lua_pop(L, 1);
        } else {
          lua_pop(L, 2);
          return Error::InvalidArgument("a table key that is neither a string nor a number");
        }
        nlohmann::json item;
        Status s = ToJsonAt(L, -1, depth + 1, &item);
        lua_pop(L, 1);
        if (!s.ok()) {
          lua_pop(L, 1);
          return s;
        }
        (*out)[key] = std::move(item);
      }
      return {};
    }
    default: return Error::InvalidArgument(fmt::format("a {} is not JSON", luaL_typename(L, idx)));
  }
}

}  // namespace

void PushJson(lua_State* L, const nlohmann::json& j) {
  if (lua_checkstack(L, 4) == 0) {  // nested past Lua's stack: cut there (raising would leak `j`'s owner)
    lua_pushnil(L);
    return;
  }
  switch (j.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded: lua_pushnil(L); return;
    case nlohmann::json::value_t::boolean: lua_pushboolean(L, j.get<bool>() ? 1 : 0); return;
    case nlohmann::json::value_t::number_integer: lua_pushinteger(L, j.get<int64_t>()); return;
    case nlohmann::json::value_t::number_unsigned: {
      auto u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX))
        lua_pushinteger(L, static_cast<lua_Integer>(u));
      else
        lua_pushnumber(L, static_cast<double>(u));
      return;
    }
    case nlohmann::json::value_t::number_float: lua_pushnumber(L, j.get<double>()); return;
    case nlohmann::json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      lua_pushlstring(L, s.data(), s.size());
      return;
    }
    case nlohmann::json::value_t::array: {
      lua_createtable(L, static_cast<int>(j.size()), 0);
      lua_Integer i = 1;
      for (const auto& item : j) {
        PushJson(L, item);
        lua_rawseti(L, -2, i++);
      }
      return;
    }
    case nlohmann::json::value_t::object:
    case nlohmann::json::value_t::binary: {
      lua_createtable(L, 0, static_cast<int>(j.size()));
      if (j.is_object()) {
        for (const auto& [k, v] : j.items()) {
          PushJson(L, v);
          lua_setfield(L, -2, k.c_str());
        }
      }
      return;
    }
  }
}

Result<nlohmann::json> ToJson(lua_State* L, int idx) {
  nlohmann::json out;
  Status s = ToJsonAt(L, idx, 0, &out);
  if (!s.ok()) return s.error();
  return out;
}

void OpenLibrary(lua_State* L, Xoshiro256& rng) {
  // In expressions `json` is the last response's body; the helpers are also `JSON` there.
  Table(L, "json", {{"encode", JsonEncode}, {"decode", JsonDecode}});
  Table(L, "JSON", {{"encode", JsonEncode}, {"decode", JsonDecode}});
  Table(L, "base64", {{"encode", Base64Encode}, {"decode", Base64Decode}});
  Table(L, "hex", {{"encode", HexEncode}, {"decode", HexDecode}});
  Table(L, "url", {{"encode", UrlEncode}, {"decode", UrlDecode}});
  Table(L, "crypto",
        {{"md5", Hash<kMd5>},
         {"sha1", Hash<kSha1>},
         {"sha256", Hash<kSha256>},
         {"sha512", Hash<kSha512>},
         {"hmac", Hmac}});
  for (const luaL_Reg& f :
       {luaL_Reg{"uuid", Uuid}, luaL_Reg{"random_int", RandomInt}, luaL_Reg{"random_string", RandomString}}) {
    lua_pushlightuserdata(L, &rng);
    lua_pushcclosure(L, f.func, 1);
    lua_setglobal(L, f.name);
  }
  lua_register(L, "now_ms", NowMs);
}

}  // namespace loadcell::script
