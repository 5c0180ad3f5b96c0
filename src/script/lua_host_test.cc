#include "script/lua_host.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>

namespace loadcell::script {
namespace {

class FakeScope final : public Scope {
 public:
  bool LookupTyped(std::string_view name, std::string* out, bool* json) const override {
    auto it = values.find(std::string(name));
    if (it == values.end()) return false;
    *out = it->second.first;
    *json = it->second.second;
    return true;
  }
  int ResponseStatus() const override { return status; }
  const std::vector<std::pair<std::string, std::string>>* ResponseHeaders() const override { return &headers; }
  std::string_view ResponseBody() const override { return body; }

  std::map<std::string, std::pair<std::string, bool>> values;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

std::unique_ptr<LuaHost> Host(const std::string& script = "", Nanos budget = 500 * kMilli) {
  HostOptions o;
  if (!script.empty()) {
    o.script_file = "t.lua";
    o.script_text = script;
  }
  o.seed = 7;
  o.budget = budget;
  auto h = LuaHost::Make(o);
  EXPECT_TRUE(h.ok()) << (h.ok() ? "" : h.error().message);
  return h.ok() ? std::move(h).value() : nullptr;
}

// The key of an expression: one per source text (a template's node in the engine).
const void* Key(const std::string& src) {
  static std::map<std::string, int> keys;
  return &keys[src];
}

Value Eval(LuaHost& h, const std::string& src, Scope& scope) {
  auto v = h.Eval(Key(src), src, scope);
  EXPECT_TRUE(v.ok()) << src << ": " << (v.ok() ? "" : v.error().message);
  return v.ok() ? *v : Value{};
}

TEST(LuaHost, ExpressionsSeeTheScopeAndKeepTypes) {
  auto h = Host();
  FakeScope s;
  s.values["count"] = {"41", true};
  s.values["name"] = {"alice", false};
  s.values["vars.base"] = {"/api", false};
  s.values["data.users.id"] = {"u7", false};
  s.status = 202;
  s.headers = {{"Content-Type", "application/json"}};
  s.body = R"({"state":"pending","items":[1,2,3]})";
  EXPECT_EQ(Eval(*h, "count + 1", s).text, "42");
  EXPECT_TRUE(Eval(*h, "count + 1", s).json);
  EXPECT_EQ(Eval(*h, "name .. '!'", s).text, "alice!");
  EXPECT_FALSE(Eval(*h, "name", s).json);
  EXPECT_EQ(Eval(*h, "vars.base .. '/x'", s).text, "/api/x");
  EXPECT_EQ(Eval(*h, "data.users.id", s).text, "u7");
  EXPECT_EQ(Eval(*h, "status == 202", s).text, "true");
  EXPECT_EQ(Eval(*h, "json.state", s).text, "pending");
  EXPECT_EQ(Eval(*h, "#json.items", s).text, "3");
  EXPECT_EQ(Eval(*h, "headers['content-type']", s).text, "application/json");
  EXPECT_EQ(Eval(*h, "{a = 1}", s).text, R"({"a":1})");
  EXPECT_EQ(Eval(*h, "missing", s).text, "null");
  EXPECT_FALSE(Eval(*h, "missing", s).truthy());
  EXPECT_TRUE(Eval(*h, "0", s).truthy());  // Lua's truth: 0 is true
  EXPECT_EQ(Eval(*h, "7 / 2", s).text, "3.5");
  EXPECT_EQ(Eval(*h, "6 / 2", s).text, "3");
}

TEST(LuaHost, ScriptFunctionsAndHelpers) {
  auto h = Host("function sign(s) return crypto.hmac('sha256', 'key', s) end\n");
  FakeScope s;
  // RFC 4231-style check against a known HMAC-SHA256 (key "key", the classic fox sentence).
  s.values["msg"] = {"The quick brown fox jumps over the lazy dog", false};
  EXPECT_EQ(Eval(*h, "sign(msg)", s).text, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  EXPECT_EQ(Eval(*h, "crypto.sha1('abc')", s).text, "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Eval(*h, "crypto.md5('')", s).text, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Eval(*h, "base64.encode('hello')", s).text, "aGVsbG8=");
  EXPECT_EQ(Eval(*h, "base64.decode('aGVsbG8')", s).text, "hello");
  EXPECT_EQ(Eval(*h, "hex.encode('AB')", s).text, "4142");
  EXPECT_EQ(Eval(*h, "url.encode('a b&c')", s).text, "a%20b%26c");
  EXPECT_EQ(Eval(*h, "JSON.decode('{\"x\":[1,true]}').x[2]", s).text, "true");
  EXPECT_EQ(Eval(*h, "JSON.encode({1, 2, 'x'})", s).text, R"([1,2,"x"])");
  EXPECT_EQ(Eval(*h, "#random_string(16)", s).text, "16");
  EXPECT_EQ(Eval(*h, "#uuid()", s).text, "36");
  Value r = Eval(*h, "random_int(5, 9)", s);
  EXPECT_GE(std::stoi(r.text), 5);
  EXPECT_LE(std::stoi(r.text), 9);
}

TEST(LuaHost, SameSeedSameRandomValues) {
  auto a = Host(), b = Host();
  FakeScope s;
  EXPECT_EQ(Eval(*a, "random_string(12) .. math.random(1000000)", s).text,
            Eval(*b, "random_string(12) .. math.random(1000000)", s).text);
}

TEST(LuaHost, SandboxHasNoIoOsDebugOrBytecode) {
  auto h = Host();
  FakeScope s;
  for (const char* name : {"io", "os", "debug", "package", "dofile", "loadfile"})
    EXPECT_EQ(Eval(*h, name, s).text, "null") << name;
  std::string src = "require('ffi')";
  auto r = h->Eval(&src, src, s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no file ffi.lua next to the test"), std::string::npos) << r.error().message;
  std::string up = "require('../etc/passwd')";
  auto r2 = h->Eval(&up, up, s);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("a module is a name of the test's own files"), std::string::npos);
  // Bytecode: string.dump works, loading it does not.
  EXPECT_EQ(Eval(*h, "select(2, load(string.dump(function() return 1 end)))", s).text,
            "attempt to load a binary chunk (mode is 't')");
  EXPECT_EQ(Eval(*h, "load('return 1 + 1')()", s).text, "2");
}

TEST(LuaHost, ExpressionsCannotAssign) {
  auto h = Host("function f() x_global = 1 return x_global end\n");
  FakeScope s;
  std::string src = "(function() status = 1 end)()";
  auto r = h->Eval(&src, src, s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("an expression cannot assign `status`"), std::string::npos) << r.error().message;
  // The script's own functions keep their globals.
  EXPECT_EQ(Eval(*h, "f()", s).text, "1");
}

TEST(LuaHost, ASpinningScriptIsCutWithItsLine) {
  auto h = Host("function spin()\n  local n = 0\n  while true do n = n + 1 end\nend\n", 100 * kMilli);
  FakeScope s;
  std::string src = "spin()";
  auto t0 = std::chrono::steady_clock::now();
  auto r = h->Eval(&src, src, s);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("t.lua:3: script_timeout"), std::string::npos) << r.error().message;
  EXPECT_LT(took, std::chrono::milliseconds(400));
  // The host is usable afterwards.
  EXPECT_EQ(Eval(*h, "1 + 1", s).text, "2");
}

TEST(LuaHost, MemoryIsBounded) {
  HostOptions o;
  o.memory = 8 << 20;
  auto h = LuaHost::Make(o);
  ASSERT_TRUE(h.ok());
  FakeScope s;
  std::string src = "string.rep('x', 64 * 1024 * 1024)";
  auto r = (*h)->Eval(&src, src, s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not enough memory"), std::string::npos) << r.error().message;
  EXPECT_LE((*h)->memory_used(), size_t{8} << 20);
}

TEST(LuaHost, ScriptErrorsHaveFileLineAndColumn) {
  HostOptions o;
  o.script_file = "flow.lua";
  o.script_text = "function ok() end\nfunction bad(\n  x y\nend\n";
  auto h = LuaHost::Make(o);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().message, "flow.lua:3:5: ')' expected near 'y'");
  auto h2 = Host();
  size_t col = 99;
  Status st = h2->CheckSyntax("status == == 200", &col);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(col, 10u);
  EXPECT_EQ(st.error().message, "unexpected symbol near '=='");
}

TEST(FreeNames, NamesAnExpressionReads) {
  auto names = [](std::string_view e) {
    std::vector<std::string> out;
    for (auto& [n, _] : FreeNames(e)) out.push_back(n);
    return out;
  };
  EXPECT_EQ(names("status == 200 and json.state ~= 'done'"), (std::vector<std::string>{"status", "json"}));
  EXPECT_EQ(names("sign(body) .. \"x y\" -- comment z"), (std::vector<std::string>{"sign", "body"}));
  EXPECT_EQ(names("{a = n, b = m:upper()}"), (std::vector<std::string>{"n", "m"}));
  EXPECT_EQ(names("(function(a) return a + k end)(1)"), (std::vector<std::string>{"k"}));
  EXPECT_EQ(names("x .. y"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(names("[[not a name]] .. 1.5e3"), std::vector<std::string>{});
}

}  // namespace
}  // namespace loadcell::script
