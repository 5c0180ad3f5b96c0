// Templates: "{{ expr }}" inside any string of a test definition, compiled once when the
// test is loaded. A string without "{{" compiles to a literal and costs nothing per request.
//
// Expressions: names (vars.x, env.X, data.feeder.column, captured or `set` variables, vu,
// iteration, scenario), integer and string literals, + - * / % on integers, parentheses,
// the functions uuid(), random_int(a, b), random_string(n), now_ms(), and the filters
// `| string` and `| number` at the end (`{{ data.users.id | number }}`).
//
// Values have a type where it is known: integers (vu, iteration, arithmetic, random_int,
// now_ms), JSON values (a `vars` entry written as a number, boolean or null; a JSON capture
// of a number, boolean, null, object or array) and strings (everything else: CSV columns,
// env, headers, regex captures). A JSON body keeps the type of a scalar that is one whole
// template (RenderJson).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/rng.h"
#include "script/lua_host.h"

namespace loadcell {

struct Expr;  // an expression tree node (template.cc)

// What a template reads while rendering; implemented by the VU.
class TemplateContext {
 public:
  virtual ~TemplateContext() = default;
  // The value of a dotted name ("vars.tenants", "token"); false when it has none now.
  virtual bool Lookup(std::string_view name, std::string* out) const = 0;
  // The same, and whether the value is JSON text (a number, boolean, null, object or
  // array) rather than a string. The default: every value is a string.
  virtual bool LookupTyped(std::string_view name, std::string* out, bool* json) const {
    *json = false;
    return Lookup(name, out);
  }
  virtual Xoshiro256& Rng() = 0;
  virtual int64_t NowMs() const = 0;
  // A Lua expression of the template (`key`: its node, stable for the run).
  virtual Result<script::Value> EvalScript(const void* key, std::string_view source) {
    (void)key;
    (void)source;
    return Error::InvalidArgument("a Lua expression is evaluated only while a test runs");
  }
};

class Template {
 public:
  Template();
  ~Template();
  Template(const Template&);  // cheap: expression trees are shared and immutable
  Template& operator=(const Template&);
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  // Parses `text`. Errors give the column (0-based, in `text`) through error_offset.
  // `lua`: an expression the templates' grammar does not take, or one that reads the last
  // response (status, headers, body, json), is a Lua expression (the loader checks it).
  static Result<Template> Compile(std::string_view text, size_t* error_offset = nullptr, bool lua = false);
  // One Lua expression (an `if`/`while` condition, a `record` value).
  static Template Script(std::string source);
  bool is_script() const;
  struct ScriptPart {
    std::string source;
    size_t offset = 0;         // in the template's text
    std::string native_error;  // "OFFSET\tmessage" when the templates' grammar refused it
  };
  std::vector<ScriptPart> ScriptParts() const;
  // As a condition: a Lua expression by Lua's truth (all but nil and false); any other
  // template rendered, true unless empty, "0" or "false".
  Result<bool> Truth(TemplateContext& ctx) const;
  // A Lua expression's value (is_script() only).
  Result<script::Value> Evaluate(TemplateContext& ctx) const;
  // Rendered, and whether the value is JSON (a template that is one Lua expression keeps its
  // value's type; any other renders to a string, as `set` has always kept them).
  Result<std::string> RenderTyped(TemplateContext& ctx, bool* json) const;
  // `text` as is, braces included (a URL or body given on the command line).
  static Template Literal(std::string text);

  bool is_literal() const { return parts_.size() <= 1 && (parts_.empty() || parts_[0].expr == nullptr); }
  const std::string& literal() const;  // only when is_literal()
  // The text before the first {{ }} (all of it for a literal).
  std::string LiteralPrefix() const;
  // Every name the template reads ("vars.tenants", "data.users.name", "token").
  std::vector<std::string> Names() const;
  // True when it calls a function (uuid(), random_int(), now_ms(): a new value each time).
  bool CallsFunctions() const;

  Result<std::string> Render(TemplateContext& ctx) const;
  // The template as one JSON value: a template that is a single {{ }} keeps its value's
  // type (an integer or JSON value as is, a string quoted); anything else is a JSON string.
  Result<std::string> RenderJson(TemplateContext& ctx) const;

 private:
  struct Part {
    std::string text;                  // literal text, or the source of the expression
    std::shared_ptr<const Expr> expr;  // null for literal text
  };
  std::vector<Part> parts_;
};

}  // namespace loadcell
