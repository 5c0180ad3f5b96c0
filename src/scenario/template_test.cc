#include "scenario/template.h"
#include "common/rng.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>

namespace loadcell {
namespace {

class MapContext : public TemplateContext {
 public:
  std::map<std::string, std::string> values;
  Xoshiro256 rng{1};
  bool Lookup(std::string_view name, std::string* out) const override {
    auto it = values.find(std::string(name));
    if (it == values.end()) return false;
    *out = it->second;
    return true;
  }
  Xoshiro256& Rng() override { return rng; }
  int64_t NowMs() const override { return 1700000000123; }
};

TEST(Template, LiteralsCostNothing) {
  auto t = *Template::Compile("/api/v1/items");
  EXPECT_TRUE(t.is_literal());
  EXPECT_EQ(t.literal(), "/api/v1/items");
  EXPECT_TRUE(t.Names().empty());
  EXPECT_TRUE(Template::Compile("").value().is_literal());
}

TEST(Template, NamesArithmeticAndFunctions) {
  MapContext ctx;
  ctx.values = {{"vu", "7"}, {"vars.tenants", "5"}, {"token", "abc"}, {"data.users.name", "ann"}};
  auto t = *Template::Compile("t{{ vu % vars.tenants }}-{{token}}-{{ data.users.name }}-{{ (vu + 3) * 2 - 1 }}");
  EXPECT_FALSE(t.is_literal());
  EXPECT_EQ(t.Render(ctx).value(), "t2-abc-ann-19");
  auto names = t.Names();
  EXPECT_EQ(names, (std::vector<std::string>{"vu", "vars.tenants", "token", "data.users.name", "vu"}));
  EXPECT_EQ(Template::Compile("{{ now_ms() }}").value().Render(ctx).value(), "1700000000123");
  EXPECT_EQ(Template::Compile("{{ -4 / 2 }}").value().Render(ctx).value(), "-2");
  for (int i = 0; i < 100; ++i) {
    int v = std::stoi(Template::Compile("{{ random_int(10, 12) }}").value().Render(ctx).value());
    EXPECT_GE(v, 10);
    EXPECT_LE(v, 12);
  }
  EXPECT_EQ(Template::Compile("{{ random_string(16) }}").value().Render(ctx).value().size(), 16u);
  std::string uuid = Template::Compile("{{ uuid() }}").value().Render(ctx).value();
  EXPECT_TRUE(std::regex_match(uuid, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << uuid;
  EXPECT_EQ(Template::Compile("{{ 'a' }}{{\"b\"}}").value().Render(ctx).value(), "ab");
}

TEST(Template, CompileErrorsPointAtTheProblem) {
  size_t at = 0;
  auto e = Template::Compile("x {{ vu + }}", &at);
  EXPECT_EQ(e.error().message, "expression expected");
  EXPECT_EQ(at, 10u);
  EXPECT_EQ(Template::Compile("{{ nope(1) }}").error().message,
            "unknown function `nope` (known: uuid, random_int, random_string, now_ms)");
  EXPECT_EQ(Template::Compile("{{ random_int(1) }}").error().message, "random_int() takes 2 arguments");
  EXPECT_EQ(Template::Compile("{{ vu").error().message, "unterminated {{ (missing }})");
  EXPECT_FALSE(Template::Compile("{{ (vu }}").ok());
  EXPECT_EQ(Template::Compile("{{ " + std::string(10000, '(') + " }}").error().message, "expression nested too deeply");
  EXPECT_EQ(Template::Compile("{{ " + std::string(10000, '-') + "1 }}").error().message,
            "expression nested too deeply");
  EXPECT_TRUE(Template::Compile("{{ ((((vu)))) - -1 }}").ok());
  EXPECT_FALSE(Template::Compile("{{ 'open }}").ok());
}

TEST(Template, RenderErrors) {
  MapContext ctx;
  ctx.values = {{"name", "ann"}};
  EXPECT_EQ(Template::Compile("{{ missing }}").value().Render(ctx).error().message, "`missing` has no value");
  EXPECT_EQ(Template::Compile("{{ name + 1 }}").value().Render(ctx).error().message, "+: \"ann\" is not an integer");
  EXPECT_EQ(Template::Compile("{{ 1 / 0 }}").value().Render(ctx).error().message, "division by zero");
}

}  // namespace
}  // namespace loadcell
