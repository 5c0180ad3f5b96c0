#include "script/lua_host.h"

#include <lua5.4/lauxlib.h>
#include <lua5.4/lua.h>
#include <lua5.4/lualib.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "script/lua_lib.h"

namespace loadcell::script {

struct HostAccess {
  static LuaHost& Of(lua_State* L) { return **static_cast<LuaHost**>(lua_getextraspace(L)); }
  static Scope* ScopeOf(lua_State* L) { return Of(L).scope_; }
};

namespace {

constexpr const char* kEnvKey = "loadcell.env";        // the expressions' environment
constexpr const char* kLoadedKey = "loadcell.loaded";  // modules `require` loaded

Nanos CoarseNow() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<Nanos>(ts.tv_sec) * kSecond + ts.tv_nsec;
}

// The count hook: every 1000 instructions, the evaluation's deadline. A spinning script
// fails where it spins.
void BudgetHook(lua_State* L, lua_Debug* ar) {
  LuaHost& host = HostAccess::Of(L);
  if (host.deadline() == 0 || CoarseNow() <= host.deadline()) return;
  lua_getinfo(L, "Sl", ar);
  luaL_error(L, "%s:%d: script_timeout: the script ran past its budget of %d ms", ar->short_src, ar->currentline,
             static_cast<int>(host.options().budget / kMilli));
}

int Print(lua_State* L) {
  int n = lua_gettop(L);
  std::string line = "script: ";
  for (int i = 1; i <= n; ++i) {
    size_t len = 0;
    const char* s = luaL_tolstring(L, i, &len);
    if (i > 1) line += '\t';
    line.append(s, len);
    lua_pop(L, 1);
  }
  line += '\n';
  fwrite(line.data(), 1, line.size(), stderr);
  return 0;
}

// load(chunk [, chunkname [, mode [, env]]]) with mode forced to "t": precompiled
// bytecode can break the VM's invariants, so a script may only load text.
int LoadText(lua_State* L) {
  lua_settop(L, 4);
  lua_pushvalue(L, lua_upvalueindex(1));  // the original load
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushliteral(L, "t");
  int nargs = 3;
  if (!lua_isnone(L, 4) && !lua_isnil(L, 4)) {
    lua_pushvalue(L, 4);
    nargs = 4;
  }
  lua_call(L, nargs, LUA_MULTRET);
  return lua_gettop(L) - 4;
}

bool ModuleName(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.back() == '.' || name.find("..") != std::string_view::npos)
    return false;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

// require(name): a module of the test, next to the test file (or among its uploaded files).
// Lua raises errors with longjmp: the C++ strings live in a block left before raising.
int Require(lua_State* L) {
  const char* arg = luaL_checkstring(L, 1);
  LuaHost& host = HostAccess::Of(L);
  if (!ModuleName(arg)) {
    return luaL_error(L, "require \"%s\": a module is a name of the test's own files (letters, digits, _ - .)", arg);
  }
  lua_getfield(L, LUA_REGISTRYINDEX, kLoadedKey);
  lua_getfield(L, -1, arg);
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);
  bool failed = false;  // the error message is on the stack
  {
    std::string rel = arg;
    for (char& c : rel) {
      if (c == '.') c = '/';
    }
    rel += ".lua";
    std::string text;
    bool found = true;
    const HostOptions& o = host.options();
    if (o.files != nullptr) {
      auto it = o.files->find(rel);
      found = it != o.files->end();
      if (found) text = it->second;
      if (!found) lua_pushstring(L, fmt::format("require \"{}\": no file {} among the test's files", arg, rel).c_str());
    } else {
      std::filesystem::path p = std::filesystem::path(o.base_dir.empty() ? "." : o.base_dir) / rel;
      std::ifstream in(p, std::ios::binary);
      std::error_code ec;
      found = in && std::filesystem::is_regular_file(p, ec);
      if (found) {
        std::ostringstream ss;
        ss << in.rdbuf();
        text = ss.str();
      } else {
        lua_pushstring(
            L, fmt::format("require \"{}\": no file {} next to the test (modules are the test's own files)", arg, rel)
                   .c_str());
      }
    }
    if (!found) {
      failed = true;
    } else {
      std::string chunk = "@" + rel;
      if (luaL_loadbufferx(L, text.data(), text.size(), chunk.c_str(), "t") != LUA_OK) {
        failed = true;
      } else {
        lua_pushstring(L, arg);
        failed = lua_pcall(L, 1, 1, 0) != LUA_OK;
      }
    }
  }
  if (failed) return lua_error(L);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, arg);
  return 1;
}

int ReadOnly(lua_State* L) {
  return luaL_error(L, "an expression cannot assign `%s` (use a `set:` step)", luaL_optstring(L, 2, "?"));
}

// A typed value onto the stack: JSON decoded, text as a string.
void PushTyped(lua_State* L, const std::string& text, bool json) {
  if (!json) {
    lua_pushlstring(L, text.data(), text.size());
    return;
  }
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    lua_pushlstring(L, text.data(), text.size());
    return;
  }
  PushJson(L, j);
}

// vars.x, env.X, data.feeder.column: a table whose fields are looked up in the scope
// under its prefix (data: one level more).
int ProxyIndex(lua_State* L);
void PushProxy(lua_State* L, const std::string& prefix, int depth) {
  lua_newtable(L);
  lua_newtable(L);
  lua_pushstring(L, prefix.c_str());
  lua_pushinteger(L, depth);
  lua_pushcclosure(L, ProxyIndex, 2);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ReadOnly);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
}

int ProxyIndex(lua_State* L) {
  Scope* scope = HostAccess::ScopeOf(L);
  if (scope == nullptr || lua_type(L, 2) != LUA_TSTRING) return 0;
  std::string name = std::string(lua_tostring(L, lua_upvalueindex(1))) + lua_tostring(L, 2);
  if (lua_tointeger(L, lua_upvalueindex(2)) > 1) {
    PushProxy(L, name + ".", 1);
    return 1;
  }
  std::string value;
  bool json = false;
  if (!scope->LookupTyped(name, &value, &json)) return 0;
  PushTyped(L, value, json);
  return 1;
}

// The expressions' environment: the response, the VU's names, then the globals.
int EnvIndex(lua_State* L) {
  Scope* scope = HostAccess::ScopeOf(L);
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  std::string_view key = lua_tostring(L, 2);
  if (scope != nullptr) {
    if (key == "status") {
      if (scope->ResponseStatus() == 0) return 0;
      lua_pushinteger(L, scope->ResponseStatus());
      return 1;
    }
    if (key == "body") {
      std::string_view b = scope->ResponseBody();
      lua_pushlstring(L, b.data(), b.size());
      return 1;
    }
    if (key == "headers") {
      lua_newtable(L);
      if (const auto* h = scope->ResponseHeaders()) {
        for (const auto& [name, value] : *h) {
          std::string lower = name;
          for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          lua_pushlstring(L, value.data(), value.size());
          lua_setfield(L, -2, lower.c_str());
        }
      }
      return 1;
    }
    if (key == "json") {
      auto j = nlohmann::json::parse(scope->ResponseBody(), nullptr, false);
      if (j.is_discarded()) return 0;
      PushJson(L, j);
      return 1;
    }
    if (key == "vars" || key == "env" || key == "setup") {
      PushProxy(L, std::string(key) + ".", 1);
      return 1;
    }
    if (key == "data") {
      PushProxy(L, "data.", 2);
      return 1;
    }
    std::string value;
    bool json = false;
    if (scope->LookupTyped(key, &value, &json)) {
      PushTyped(L, value, json);
      return 1;
    }
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_getfield(L, -1, std::string(key).c_str());
  return 1;
}

// The value on top of the stack as a template value.
Result<Value> ToValue(lua_State* L, int idx) {
  switch (lua_type(L, idx)) {
    case LUA_TNIL:
    case LUA_TNONE: return Value{"null", true};
    case LUA_TBOOLEAN: return Value{lua_toboolean(L, idx) != 0 ? "true" : "false", true};
    case LUA_TNUMBER: {
      if (lua_isinteger(L, idx) != 0) return Value{std::to_string(lua_tointeger(L, idx)), true};
      double d = lua_tonumber(L, idx);
      if (!std::isfinite(d)) return Error::InvalidArgument(fmt::format("the expression's value is {}", d));
      if (d == std::floor(d) && std::fabs(d) < 9e15) return Value{fmt::format("{}", static_cast<int64_t>(d)), true};
      return Value{fmt::format("{}", d), true};
    }
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, idx, &len);
      return Value{std::string(s, len), false};
    }
    case LUA_TTABLE: {
      auto j = ToJson(L, idx);
      if (!j.ok()) return j.error();
      return Value{j->dump(), true};
    }
    default: return Error::InvalidArgument(fmt::format("the expression's value is a {}", luaL_typename(L, idx)));
  }
}

}  // namespace

LuaHost::LuaHost(const HostOptions& options) : options_(options), rng_(options.seed) {}

LuaHost::~LuaHost() {
  if (L_ != nullptr) lua_close(L_);
}

void* LuaHost::Alloc(void* ud, void* ptr, size_t osize, size_t nsize) {
  auto* host = static_cast<LuaHost*>(ud);
  if (ptr == nullptr) osize = 0;
  if (nsize == 0) {
    host->used_ -= osize;
    std::free(ptr);
    return nullptr;
  }
  // Past the bound, growth fails: Lua raises "not enough memory" in the script.
  if (nsize > osize && host->used_ + (nsize - osize) > host->options_.memory) return nullptr;
  void* p = std::realloc(ptr, nsize);
  if (p != nullptr) host->used_ = host->used_ - osize + nsize;
  return p;
}

Result<std::unique_ptr<LuaHost>> LuaHost::Make(const HostOptions& options) {
  std::unique_ptr<LuaHost> host(new LuaHost(options));
  Status s = host->Open();
  if (!s.ok()) return s.error();
  return host;
}

Status LuaHost::Open() {
  L_ = lua_newstate(&LuaHost::Alloc, this);
  if (L_ == nullptr) return Error::Internal("cannot create a Lua state");
  *static_cast<LuaHost**>(lua_getextraspace(L_)) = this;
  static const luaL_Reg kLibs[] = {{LUA_GNAME, luaopen_base},        {LUA_TABLIBNAME, luaopen_table},
                                   {LUA_STRLIBNAME, luaopen_string}, {LUA_MATHLIBNAME, luaopen_math},
                                   {LUA_UTF8LIBNAME, luaopen_utf8},  {LUA_COLIBNAME, luaopen_coroutine}};
  for (const luaL_Reg& lib : kLibs) {
    luaL_requiref(L_, lib.name, lib.func, 1);
    lua_pop(L_, 1);
  }
  lua_pushnil(L_);
  lua_setglobal(L_, "dofile");
  lua_pushnil(L_);
  lua_setglobal(L_, "loadfile");
  lua_getglobal(L_, "load");
  lua_pushcclosure(L_, LoadText, 1);
  lua_setglobal(L_, "load");
  lua_register(L_, "print", Print);
  lua_register(L_, "require", Require);
  // math.random from the run's seed: a run is reproducible with --seed.
  lua_getglobal(L_, LUA_MATHLIBNAME);
  lua_getfield(L_, -1, "randomseed");
  lua_pushinteger(L_, static_cast<lua_Integer>(options_.seed & 0x7fffffffffffffffULL));
  lua_call(L_, 1, 0);
  lua_pop(L_, 1);
  OpenLibrary(L_, rng_);
  lua_newtable(L_);
  lua_setfield(L_, LUA_REGISTRYINDEX, kLoadedKey);
  // The expressions' environment.
  lua_newtable(L_);
  lua_newtable(L_);
  lua_pushcfunction(L_, EnvIndex);
  lua_setfield(L_, -2, "__index");
  lua_pushcfunction(L_, ReadOnly);
  lua_setfield(L_, -2, "__newindex");
  lua_setmetatable(L_, -2);
  lua_setfield(L_, LUA_REGISTRYINDEX, kEnvKey);
  lua_sethook(L_, BudgetHook, LUA_MASKCOUNT, 1000);
  if (options_.script_file.empty()) return {};
  std::string chunk = "@" + options_.script_file;
  if (luaL_loadbufferx(L_, options_.script_text.data(), options_.script_text.size(), chunk.c_str(), "t") != LUA_OK) {
    std::string msg = lua_tostring(L_, -1);
    lua_pop(L_, 1);
    return Error::InvalidArgument(WithColumn(msg, options_.script_text));
  }
  deadline_ = CoarseNow() + options_.budget;
  int rc = lua_pcall(L_, 0, 0, 0);
  deadline_ = 0;
  if (rc != LUA_OK) {
    std::string msg = lua_tostring(L_, -1) != nullptr ? lua_tostring(L_, -1) : "error";
    lua_pop(L_, 1);
    return Error::InvalidArgument(msg);
  }
  return {};
}

Result<Value> LuaHost::Eval(const void* key, std::string_view source, Scope& scope) {
  auto it = compiled_.find(key);
  if (it == compiled_.end()) {
    std::string code = "return ";
    code.append(source);
    std::string chunk = fmt::format("=expression \"{}\"", source.substr(0, 40));
    if (luaL_loadbufferx(L_, code.data(), code.size(), chunk.c_str(), "t") != LUA_OK) {
      std::string msg = lua_tostring(L_, -1);
      lua_pop(L_, 1);
      return Error::InvalidArgument(msg);
    }
    lua_getfield(L_, LUA_REGISTRYINDEX, kEnvKey);
    lua_setupvalue(L_, -2, 1);
    it = compiled_.emplace(key, luaL_ref(L_, LUA_REGISTRYINDEX)).first;
  }
  lua_rawgeti(L_, LUA_REGISTRYINDEX, it->second);
  scope_ = &scope;
  deadline_ = CoarseNow() + options_.budget;
  int rc = lua_pcall(L_, 0, 1, 0);
  deadline_ = 0;
  scope_ = nullptr;
  if (rc != LUA_OK) {
    std::string msg = lua_type(L_, -1) == LUA_TSTRING ? lua_tostring(L_, -1) : "error (not a string)";
    lua_pop(L_, 1);
    return Error::InvalidArgument(msg);
  }
  auto v = ToValue(L_, -1);
  lua_pop(L_, 1);
  return v;
}

Status LuaHost::CheckSyntax(std::string_view source, size_t* col) {
  std::string code = "return ";
  code.append(source);
  if (luaL_loadbufferx(L_, code.data(), code.size(), "=expression", "t") == LUA_OK) {
    lua_pop(L_, 1);
    return {};
  }
  std::string msg = lua_tostring(L_, -1);
  lua_pop(L_, 1);
  // "expression:1: unexpected symbol near 'x'": the column of 'x', less "return ".
  std::string located = WithColumn(msg, code);
  *col = 0;
  size_t first = located.find(':'), second = located.find(':', first + 1), third = located.find(':', second + 1);
  if (third != std::string::npos) {
    int c = std::atoi(located.c_str() + second + 1);
    int line = std::atoi(located.c_str() + first + 1);
    *col = line == 1 && c > 7 ? static_cast<size_t>(c - 8) : 0;
    msg = located.substr(third + 1);
    while (!msg.empty() && msg.front() == ' ') msg.erase(0, 1);
  }
  return Error::InvalidArgument(msg);
}

bool LuaHost::HasGlobal(const std::string& name) {
  lua_getglobal(L_, name.c_str());
  bool has = !lua_isnil(L_, -1);
  lua_pop(L_, 1);
  return has;
}

std::string WithColumn(const std::string& lua_message, std::string_view text) {
  // chunk:LINE: message
  size_t colon = lua_message.find(':');
  while (colon != std::string::npos &&
         !(colon + 1 < lua_message.size() && std::isdigit(static_cast<unsigned char>(lua_message[colon + 1])) != 0)) {
    colon = lua_message.find(':', colon + 1);
  }
  if (colon == std::string::npos) return lua_message;
  size_t end = lua_message.find(':', colon + 1);
  if (end == std::string::npos) return lua_message;
  int line = std::atoi(lua_message.c_str() + colon + 1);
  int col = 1;
  size_t near = lua_message.find("near '");
  if (near != std::string::npos && line > 0) {
    size_t tok_start = near + 6, tok_end = lua_message.find('\'', tok_start);
    std::string tok = lua_message.substr(tok_start, tok_end - tok_start);
    size_t pos = 0;
    for (int l = 1; l < line && pos != std::string_view::npos; ++l) {
      pos = text.find('\n', pos);
      if (pos != std::string_view::npos) ++pos;
    }
    if (pos != std::string_view::npos && !tok.empty()) {
      size_t line_end = text.find('\n', pos);
      std::string_view line_text = text.substr(pos, line_end == std::string_view::npos ? line_end : line_end - pos);
      size_t at = line_text.rfind(tok);
      if (at != std::string_view::npos) col = static_cast<int>(at) + 1;
    }
  }
  return fmt::format("{}:{}:{}", lua_message.substr(0, end), col, lua_message.substr(end + 1));
}

std::vector<std::pair<std::string, size_t>> FreeNames(std::string_view s) {
  static const std::set<std::string, std::less<>> kKeywords = {
      "and", "break", "do",  "else", "elseif", "end",    "false",  "for",  "function", "goto",  "if",
      "in",  "local", "nil", "not",  "or",     "repeat", "return", "then", "true",     "until", "while"};
  std::vector<std::pair<std::string, size_t>> out;
  std::set<std::string, std::less<>> locals;
  int braces = 0;
  char prev = 0;  // the last significant character before the current token
  bool prev_dots = false;
  bool in_params = false;
  size_t i = 0;
  auto long_bracket = [&](size_t at) -> size_t {  // length of "[==[" at `at`, or 0
    if (at >= s.size() || s[at] != '[') return 0;
    size_t j = at + 1;
    while (j < s.size() && s[j] == '=') ++j;
    return j < s.size() && s[j] == '[' ? j - at + 1 : 0;
  };
  auto skip_long = [&](size_t open) {
    std::string close = "]" + std::string(open - 2, '=') + "]";
    size_t e = s.find(close, i + open);
    i = e == std::string_view::npos ? s.size() : e + close.size();
  };
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++i;
      continue;
    }
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      i += 2;
      if (size_t open = long_bracket(i)) {
        skip_long(open);
      } else {
        while (i < s.size() && s[i] != '\n') ++i;
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      ++i;
      while (i < s.size() && s[i] != c) i += s[i] == '\\' ? 2 : 1;
      ++i;
      prev = '"';
      continue;
    }
    if (size_t open = long_bracket(i)) {
      skip_long(open);
      prev = '"';
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) != 0 || s[i] == '.')) ++i;
      prev = '0';
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_') {
      size_t start = i;
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) != 0 || s[i] == '_')) ++i;
      std::string word(s.substr(start, i - start));
      size_t j = i;
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j])) != 0) ++j;
      const bool field = (prev == '.' && !prev_dots) || prev == ':';
      const bool key = braces > 0 && j < s.size() && s[j] == '=' && (j + 1 >= s.size() || s[j + 1] != '=');
      if (word == "function") in_params = true;
      if (in_params && word != "function") {
        locals.insert(word);
      } else if (kKeywords.count(word) == 0 && !field && !key && locals.count(word) == 0) {
        out.emplace_back(word, start);
      }
      prev = 'a';
      continue;
    }
    if (c == '{') ++braces;
    if (c == '}') --braces;
    if (c == ')') in_params = false;
    prev_dots = c == '.' && i + 1 < s.size() && s[i + 1] == '.';
    if (prev_dots) {
      i += 2;
      prev = '+';
      continue;
    }
    prev = c;
    ++i;
  }
  return out;
}

}  // namespace loadcell::script
