// A worker's Lua: one lua_State per worker thread (shared-nothing, as OpenResty keeps one
// per nginx worker), in a sandbox. It evaluates the Lua expressions of a test's templates
// and steps (`{{ sign(body) }}`, `if: {cond: ...}`, `record: {value: ...}`) against a VU
// (Scope), and holds the functions of the test's `script:` file.
//
// The sandbox: Lua's base library without dofile/loadfile and with `load` limited to text
// chunks, and string, table, math, utf8, coroutine; no io, os, package or debug. `require`
// resolves a module only next to the test file (or among the files uploaded with it), and
// `print` writes to stderr. Each evaluation has a time budget, checked by a count hook (a
// spinning expression fails with `script_timeout` and its file:line instead of freezing
// the worker), and the state a memory bound. Helpers (lua_lib.cc): json, base64, hex, url,
// crypto, uuid(), random_int(), random_string(), now_ms(), from the worker's seeded
// generator.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/rng.h"

struct lua_State;

namespace loadcell::script {

// A value as templates keep them: text, and whether it is JSON (a number, boolean, null,
// object or array) rather than a string.
struct Value {
  std::string text;
  bool json = false;
  // Lua's truth: everything but nil and false.
  bool truthy() const { return !(json && (text == "null" || text == "false")); }
};

// What an expression sees: the VU's names and its last response.
class Scope {
 public:
  virtual ~Scope() = default;
  // A dotted name ("token", "vars.base", "data.users.id", "iteration"); false when it has none.
  virtual bool LookupTyped(std::string_view name, std::string* out, bool* json) const = 0;
  virtual int ResponseStatus() const { return 0; }  // 0: no response yet
  virtual const std::vector<std::pair<std::string, std::string>>* ResponseHeaders() const { return nullptr; }
  virtual std::string_view ResponseBody() const { return {}; }
};

struct HostOptions {
  std::string script_file;  // as the test names it ("" : none)
  std::string script_text;
  std::string base_dir;  // where `require` looks (the test file's directory)
  // Under `serve`: the files uploaded with the test, by name; `require` looks only here.
  const std::map<std::string, std::string>* files = nullptr;
  uint64_t seed = 0;
  Nanos budget = 100 * kMilli;        // one evaluation's time
  size_t memory = size_t{256} << 20;  // the state's bytes
};

class LuaHost {
 public:
  // Opens the sandbox and runs the script file's top level (its functions defined).
  static Result<std::unique_ptr<LuaHost>> Make(const HostOptions& options);
  ~LuaHost();
  LuaHost(const LuaHost&) = delete;
  LuaHost& operator=(const LuaHost&) = delete;

  // The expression `source`, compiled on first use and kept under `key` (the template's
  // node, stable for the run).
  Result<Value> Eval(const void* key, std::string_view source, Scope& scope);

  // Load time: the expression's syntax (`col`: where in `source`, 0-based).
  Status CheckSyntax(std::string_view source, size_t* col);
  // A global of the sandbox: a helper, Lua's own, or the script's.
  bool HasGlobal(const std::string& name);

  lua_State* state() { return L_; }
  const HostOptions& options() const { return options_; }
  Xoshiro256& rng() { return rng_; }
  // The running evaluation's deadline (the count hook's budget).
  Nanos deadline() const { return deadline_; }
  size_t memory_used() const { return used_; }

 private:
  explicit LuaHost(const HostOptions& options);
  Status Open();
  static void* Alloc(void* ud, void* ptr, size_t osize, size_t nsize);

  HostOptions options_;
  lua_State* L_ = nullptr;
  Xoshiro256 rng_;
  Nanos deadline_ = 0;
  size_t used_ = 0;
  std::map<const void*, int> compiled_;  // key -> registry reference of the expression's function
  Scope* scope_ = nullptr;               // while an expression runs
  friend struct HostAccess;
};

// The names an expression reads that it does not define: identifiers not after `.` or
// `:`, not keywords, not inside strings or comments, not table-constructor keys — with
// their offsets. The loader checks each against the names a VU has and the sandbox's
// globals (a misspelt name would otherwise be nil, silently).
std::vector<std::pair<std::string, size_t>> FreeNames(std::string_view expr);

// `file:line:col: message` from Lua's `chunk:line: message ... near 'tok'` (the column of
// `tok` in that line of `text`, else 1).
std::string WithColumn(const std::string& lua_message, std::string_view text);

}  // namespace loadcell::script
