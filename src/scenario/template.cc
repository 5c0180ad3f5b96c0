#include "scenario/template.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace loadcell {

struct Expr {
  enum class Kind { kInt, kString, kName, kCall, kBinary, kNegate, kFilter, kScript };
  Kind kind = Kind::kInt;
  int64_t number = 0;
  std::string text;  // string literal, name, function name
  char op = 0;
  std::vector<std::shared_ptr<const Expr>> args;
  // kScript: a Lua expression (`text`), at `number` in the template; why the templates' own
  // grammar did not take it (reported when Lua does not either).
  std::string native_error;
};

namespace {

using ExprPtr = std::shared_ptr<const Expr>;

struct TemplateError {
  size_t offset;
  std::string message;
  bool final = false;  // wrong in Lua too (a known function's arguments): no Lua fallback
};

// Recursive descent over one expression:
//   expr := term (('+'|'-') term)* ; term := unary (('*'|'/'|'%') unary)*
//   unary := '-' unary | primary ; primary := INT | STRING | NAME | NAME '(' args ')' | '(' expr ')'
//   all := expr ('|' FILTER)*
class Parser {
 public:
  Parser(std::string_view s, size_t base) : s_(s), base_(base) {}

  ExprPtr ParseAll() {
    ExprPtr e = ParseExpr();
    while (Eat('|')) {
      Skip();
      size_t start = i_;
      while (i_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[i_])) != 0) ++i_;
      std::string name(s_.substr(start, i_ - start));
      if (name != "string" && name != "number") {
        throw TemplateError{base_ + start, name.empty()
                                               ? "a filter name expected after '|' (string, number)"
                                               : fmt::format("unknown filter `{}` (known: string, number)", name)};
      }
      auto f = std::make_shared<Expr>();
      f->kind = Expr::Kind::kFilter;
      f->text = std::move(name);
      f->args = {std::move(e)};
      e = std::move(f);
    }
    Skip();
    if (i_ != s_.size()) Throw(fmt::format("unexpected '{}'", s_[i_]));
    return e;
  }

 private:
  [[noreturn]] void Throw(std::string msg) { throw TemplateError{base_ + i_, std::move(msg)}; }
  void Skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_])) != 0) ++i_;
  }
  bool Eat(char c) {
    Skip();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  ExprPtr Binary(char op, ExprPtr a, ExprPtr b) {
    auto e = std::make_shared<Expr>();
    e->kind = Expr::Kind::kBinary;
    e->op = op;
    e->args = {std::move(a), std::move(b)};
    return e;
  }
  // One precedence level, left-associative: operands from `operand`, joined by any of `ops`.
  ExprPtr ParseLevel(std::string_view ops, ExprPtr (Parser::*operand)()) {
    ExprPtr left = (this->*operand)();
    for (;;) {
      // Eat consumes the first operator that stands next: at most one per pass.
      auto op = std::find_if(ops.begin(), ops.end(), [this](char c) { return Eat(c); });
      if (op == ops.end()) return left;
      left = Binary(*op, left, (this->*operand)());
    }
  }
  ExprPtr ParseExpr() { return ParseLevel("+-", &Parser::ParseTerm); }
  ExprPtr ParseTerm() { return ParseLevel("*/%", &Parser::ParseUnary); }
  // Recursion is bounded so that a hostile "((((..." or "-----..." cannot overflow the stack.
  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxDepth) p_.Throw("expression nested too deeply");
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };
  static constexpr int kMaxDepth = 64;

  ExprPtr ParseUnary() {
    DepthGuard guard(*this);
    if (Eat('-')) {
      auto e = std::make_shared<Expr>();
      e->kind = Expr::Kind::kNegate;
      e->args = {ParseUnary()};
      return e;
    }
    return ParsePrimary();
  }
  ExprPtr ParsePrimary() {
    Skip();
    if (i_ >= s_.size()) Throw("expression expected");
    char c = s_[i_];
    auto e = std::make_shared<Expr>();
    if (c == '(') {
      ++i_;
      DepthGuard guard(*this);
      ExprPtr inner = ParseExpr();
      if (!Eat(')')) Throw("')' expected");
      return inner;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      size_t start = i_;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_])) != 0) ++i_;
      auto r = std::from_chars(s_.data() + start, s_.data() + i_, e->number);
      if (r.ec != std::errc()) Throw("integer too large");
      e->kind = Expr::Kind::kInt;
      return e;
    }
    if (c == '"' || c == '\'') {
      ++i_;
      size_t start = i_;
      while (i_ < s_.size() && s_[i_] != c) ++i_;
      if (i_ >= s_.size()) Throw("unterminated string");
      e->kind = Expr::Kind::kString;
      e->text = std::string(s_.substr(start, i_ - start));
      ++i_;
      return e;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_') {
      size_t start = i_;
      while (i_ < s_.size() &&
             (std::isalnum(static_cast<unsigned char>(s_[i_])) != 0 || s_[i_] == '_' || s_[i_] == '.')) {
        ++i_;
      }
      e->text = std::string(s_.substr(start, i_ - start));
      if (Eat('(')) {
        e->kind = Expr::Kind::kCall;
        if (!Eat(')')) {
          do e->args.push_back(ParseExpr());
          while (Eat(','));
          if (!Eat(')')) Throw("')' expected");
        }
        CheckCall(*e, start);
        return e;
      }
      e->kind = Expr::Kind::kName;
      return e;
    }
    Throw(fmt::format("unexpected '{}'", c));
  }
  void CheckCall(const Expr& e, size_t at) {
    size_t want = 0;
    if (e.text == "uuid" || e.text == "now_ms")
      want = 0;
    else if (e.text == "random_int")
      want = 2;
    else if (e.text == "random_string")
      want = 1;
    else
      throw TemplateError{
          base_ + at, fmt::format("unknown function `{}` (known: uuid, random_int, random_string, now_ms)", e.text)};
    if (e.args.size() != want) {
      throw TemplateError{base_ + at, fmt::format("{}() takes {} argument{}", e.text, want, want == 1 ? "" : "s"),
                          true};
    }
  }

  std::string_view s_;
  size_t base_;
  size_t i_ = 0;
  int depth_ = 0;
};

void CollectNames(const Expr& e, std::vector<std::string>& out) {
  if (e.kind == Expr::Kind::kName) out.push_back(e.text);
  for (const auto& a : e.args) CollectNames(*a, out);
}

bool HasCall(const Expr& e) {
  if (e.kind == Expr::Kind::kCall || e.kind == Expr::Kind::kScript) return true;
  for (const auto& a : e.args) {
    if (HasCall(*a)) return true;
  }
  return false;
}

struct Value {
  bool is_int = false;
  int64_t i = 0;
  std::string s;
  bool is_json = false;  // `s` is JSON text (a number, boolean, null, object or array)
  std::string ToString() const { return is_int ? std::to_string(i) : s; }
};

// A JSON number as JSON writes it ("12", "-0.5", "1e3"), nothing around it.
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size()) return false;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) ++i;
  } else {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || std::isdigit(static_cast<unsigned char>(s[i])) == 0) return false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || std::isdigit(static_cast<unsigned char>(s[i])) == 0) return false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) ++i;
  }
  return i == s.size();
}

Result<int64_t> AsInt(const Value& v, std::string_view what) {
  if (v.is_int) return v.i;
  int64_t n = 0;
  auto r = std::from_chars(v.s.data(), v.s.data() + v.s.size(), n);
  if (r.ec != std::errc() || r.ptr != v.s.data() + v.s.size()) {
    return Error::InvalidArgument(fmt::format("{}: \"{}\" is not an integer", what, v.s));
  }
  return n;
}

Result<Value> Eval(const Expr& e, TemplateContext& ctx) {
  switch (e.kind) {
    case Expr::Kind::kScript: {
      auto r = ctx.EvalScript(&e, e.text);
      if (!r.ok()) return r.error();
      Value v;
      v.s = std::move(r->text);
      v.is_json = r->json;
      return v;
    }
    case Expr::Kind::kInt: return Value{true, e.number, {}};
    case Expr::Kind::kString: return Value{false, 0, e.text};
    case Expr::Kind::kName: {
      Value v;
      if (!ctx.LookupTyped(e.text, &v.s, &v.is_json))
        return Error::InvalidArgument(fmt::format("`{}` has no value", e.text));
      return v;
    }
    case Expr::Kind::kFilter: {
      auto a = Eval(*e.args[0], ctx);
      if (!a.ok()) return a.error();
      if (e.text == "string") return Value{false, 0, a->ToString(), false};
      if (a->is_int) return *a;
      // | number: a string that spells a number (spaces around it allowed, as in CSV cells).
      std::string t = a->s;
      size_t b = t.find_first_not_of(" \t"), end = t.find_last_not_of(" \t");
      t = b == std::string::npos ? "" : t.substr(b, end - b + 1);
      if (t.size() > 1 && t[0] == '+') t.erase(0, 1);
      if (!IsJsonNumber(t)) return Error::InvalidArgument(fmt::format("| number: \"{}\" is not a number", a->s));
      return Value{false, 0, t, true};
    }
    case Expr::Kind::kNegate: {
      auto a = Eval(*e.args[0], ctx);
      if (!a.ok()) return a.error();
      auto n = AsInt(*a, "unary -");
      if (!n.ok()) return n.error();
      return Value{true, -*n, {}};
    }
    case Expr::Kind::kBinary: {
      auto a = Eval(*e.args[0], ctx);
      if (!a.ok()) return a.error();
      auto b = Eval(*e.args[1], ctx);
      if (!b.ok()) return b.error();
      auto x = AsInt(*a, std::string(1, e.op));
      if (!x.ok()) return x.error();
      auto y = AsInt(*b, std::string(1, e.op));
      if (!y.ok()) return y.error();
      if ((e.op == '/' || e.op == '%') && *y == 0) return Error::InvalidArgument("division by zero");
      int64_t r = 0;
      switch (e.op) {
        case '+': r = *x + *y; break;
        case '-': r = *x - *y; break;
        case '*': r = *x * *y; break;
        case '/': r = *x / *y; break;
        default: r = *x % *y; break;
      }
      return Value{true, r, {}};
    }
    case Expr::Kind::kCall: {
      std::vector<Value> args;
      for (const auto& a : e.args) {
        auto v = Eval(*a, ctx);
        if (!v.ok()) return v.error();
        args.push_back(*v);
      }
      auto& rng = ctx.Rng();
      if (e.text == "now_ms") return Value{true, ctx.NowMs(), {}};
      if (e.text == "random_int") {
        auto lo = AsInt(args[0], "random_int");
        auto hi = AsInt(args[1], "random_int");
        if (!lo.ok()) return lo.error();
        if (!hi.ok()) return hi.error();
        if (*hi < *lo) return Error::InvalidArgument("random_int(a, b) needs a <= b");
        return Value{true, std::uniform_int_distribution<int64_t>(*lo, *hi)(rng), {}};
      }
      if (e.text == "random_string") {
        auto n = AsInt(args[0], "random_string");
        if (!n.ok()) return n.error();
        if (*n < 0 || *n > 1 << 20) return Error::InvalidArgument("random_string(n) needs 0 <= n <= 1048576");
        static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        std::string s(static_cast<size_t>(*n), ' ');
        for (char& c : s) c = kAlphabet[rng() % 62];
        return Value{false, 0, s};
      }
      // uuid(): version 4, random.
      uint64_t hi = rng(), lo = rng();
      hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
      lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
      return Value{false, 0,
                   fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff,
                               lo >> 48, lo & 0xffffffffffffULL)};
    }
  }
  return Error::InvalidArgument("bad expression");
}

}  // namespace

Template::Template() = default;
Template::~Template() = default;
Template::Template(const Template&) = default;
Template& Template::operator=(const Template&) = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

Template Template::Literal(std::string text) {
  Template t;
  if (!text.empty()) t.parts_.push_back({std::move(text), nullptr});
  return t;
}

namespace {

// Names only a Lua expression can read: the last response's.
bool ReadsResponse(const Expr& e) {
  if (e.kind == Expr::Kind::kName) {
    std::string_view root = std::string_view(e.text).substr(0, e.text.find('.'));
    if (root == "status" || root == "body" || root == "headers" || root == "json") return true;
  }
  for (const auto& a : e.args) {
    if (ReadsResponse(*a)) return true;
  }
  return false;
}

ExprPtr ScriptExpr(std::string_view source, size_t offset, std::string native_error) {
  auto e = std::make_shared<Expr>();
  e->kind = Expr::Kind::kScript;
  e->text = std::string(source);
  e->number = static_cast<int64_t>(offset);
  e->native_error = std::move(native_error);
  return e;
}

}  // namespace

Template Template::Script(std::string source) {
  Template t;
  ExprPtr e = ScriptExpr(source, 0, "");
  t.parts_.push_back({std::move(source), std::move(e)});
  return t;
}

bool Template::is_script() const {
  return parts_.size() == 1 && parts_[0].expr && parts_[0].expr->kind == Expr::Kind::kScript;
}

std::vector<Template::ScriptPart> Template::ScriptParts() const {
  std::vector<ScriptPart> out;
  for (const Part& p : parts_) {
    if (p.expr && p.expr->kind == Expr::Kind::kScript)
      out.push_back({p.expr->text, static_cast<size_t>(p.expr->number), p.expr->native_error});
  }
  return out;
}

Result<bool> Template::Truth(TemplateContext& ctx) const {
  if (is_script()) {
    auto v = ctx.EvalScript(parts_[0].expr.get(), parts_[0].expr->text);
    if (!v.ok()) return v.error();
    return v->truthy();
  }
  auto v = Render(ctx);
  if (!v.ok()) return v.error();
  return !v->empty() && *v != "0" && *v != "false";
}

Result<script::Value> Template::Evaluate(TemplateContext& ctx) const {
  if (!is_script()) return Error::Internal("not a Lua expression");
  return ctx.EvalScript(parts_[0].expr.get(), parts_[0].expr->text);
}

Result<std::string> Template::RenderTyped(TemplateContext& ctx, bool* json) const {
  *json = false;
  if (is_script()) {
    auto v = Eval(*parts_[0].expr, ctx);
    if (!v.ok()) return v.error();
    *json = v->is_json;
    return v->ToString();
  }
  return Render(ctx);
}

Result<Template> Template::Compile(std::string_view text, size_t* error_offset, bool lua) {
  Template t;
  size_t pos = 0;
  try {
    while (pos < text.size()) {
      size_t open = text.find("{{", pos);
      if (open == std::string_view::npos) {
        t.parts_.push_back({std::string(text.substr(pos)), nullptr});
        break;
      }
      if (open > pos) t.parts_.push_back({std::string(text.substr(pos, open - pos)), nullptr});
      size_t close = text.find("}}", open + 2);
      if (close == std::string_view::npos) throw TemplateError{open, "unterminated {{ (missing }})"};
      std::string_view src = text.substr(open + 2, close - open - 2);
      Parser p(src, open + 2);
      ExprPtr e;
      if (!lua) {
        e = p.ParseAll();
      } else {
        // A Lua expression where the templates' grammar ends, or where it reads the response.
        try {
          e = p.ParseAll();
          if (ReadsResponse(*e)) e = ScriptExpr(src, open + 2, "");
        } catch (const TemplateError& err) {
          if (err.final) throw;
          e = ScriptExpr(src, open + 2, fmt::format("{}\t{}", err.offset, err.message));
        }
      }
      t.parts_.push_back({std::string(src), std::move(e)});
      pos = close + 2;
    }
  } catch (const TemplateError& e) {
    if (error_offset != nullptr) *error_offset = e.offset;
    return Error::InvalidArgument(e.message);
  }
  // Adjacent literal parts never occur; an empty template is one empty literal.
  if (t.parts_.empty()) t.parts_.push_back({"", nullptr});
  return t;
}

const std::string& Template::literal() const { return parts_[0].text; }

std::string Template::LiteralPrefix() const { return parts_.empty() || parts_[0].expr ? "" : parts_[0].text; }

std::vector<std::string> Template::Names() const {
  std::vector<std::string> out;
  for (const Part& p : parts_) {
    if (p.expr) CollectNames(*p.expr, out);
  }
  return out;
}

Result<std::string> Template::RenderJson(TemplateContext& ctx) const {
  if (parts_.size() == 1 && parts_[0].expr) {
    auto v = Eval(*parts_[0].expr, ctx);
    if (!v.ok()) return v.error();
    if (v->is_int) return std::to_string(v->i);
    if (v->is_json) return v->s;
    return nlohmann::json(v->s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  auto text = Render(ctx);
  if (!text.ok()) return text.error();
  return nlohmann::json(*text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool Template::CallsFunctions() const {
  for (const Part& p : parts_) {
    if (p.expr && HasCall(*p.expr)) return true;
  }
  return false;
}

Result<std::string> Template::Render(TemplateContext& ctx) const {
  std::string out;
  for (const Part& p : parts_) {
    if (!p.expr) {
      out += p.text;
      continue;
    }
    auto v = Eval(*p.expr, ctx);
    if (!v.ok()) return v.error();
    out += v->ToString();
  }
  return out;
}

}  // namespace loadcell
