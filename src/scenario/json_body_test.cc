#include "scenario/json_body.h"
#include "common/rng.h"

#include <gtest/gtest.h>

#include <map>

namespace loadcell {
namespace {

class TypedContext : public TemplateContext {
 public:
  std::map<std::string, std::pair<std::string, bool>> values;  // name -> (text, json)
  bool Lookup(std::string_view name, std::string* out) const override {
    bool json = false;
    return LookupTyped(name, out, &json);
  }
  bool LookupTyped(std::string_view name, std::string* out, bool* json) const override {
    auto it = values.find(std::string(name));
    if (it == values.end()) return false;
    *out = it->second.first;
    *json = it->second.second;
    return true;
  }
  Xoshiro256& Rng() override { return rng; }
  int64_t NowMs() const override { return 0; }
  Xoshiro256 rng;
};

JsonBody Build(nlohmann::ordered_json doc, std::vector<std::string> slots, std::vector<bool> keys = {}) {
  std::vector<JsonBody::Slot> s;
  for (size_t i = 0; i < slots.size(); ++i) {
    s.push_back({Template::Compile(slots[i]).value(), i < keys.size() && keys[i]});
  }
  return JsonBody::Build(doc, std::move(s)).value();
}

TEST(JsonBody, LiteralKeepsTheWrittenKeyOrder) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  doc["zeta"] = 1;
  doc["alpha"] = "x";
  JsonBody b = Build(doc, {});
  ASSERT_TRUE(b.is_literal());
  EXPECT_EQ(b.literal(), R"({"zeta":1,"alpha":"x"})");
}

TEST(JsonBody, AWholeTemplateKeepsItsValuesType) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  doc["n"] = JsonBody::Marker(0);
  doc["flag"] = JsonBody::Marker(1);
  doc["user"] = JsonBody::Marker(2);
  doc["csv"] = JsonBody::Marker(3);
  doc["label"] = JsonBody::Marker(4);
  doc["as_text"] = JsonBody::Marker(5);
  doc["as_number"] = JsonBody::Marker(6);
  doc["sum"] = JsonBody::Marker(7);
  JsonBody b = Build(doc, {"{{ vu }}", "{{ vars.on }}", "{{ user }}", "{{ data.u.id }}", "vu-{{ vu }}",
                           "{{ vu | string }}", "{{ data.u.id | number }}", "{{ vu * 2 + 1 }}"});
  TypedContext ctx;
  ctx.values["vu"] = {"65", true};
  ctx.values["vars.on"] = {"true", true};
  ctx.values["user"] = {R"({"id":7,"tags":["a"]})", true};
  ctx.values["data.u.id"] = {"42", false};
  EXPECT_EQ(b.Render(ctx).value(), R"({"n":65,"flag":true,"user":{"id":7,"tags":["a"]},"csv":"42","label":"vu-65",)"
                                   R"("as_text":"65","as_number":42,"sum":131})");
  ctx.values["data.u.id"] = {"0042", false};  // not a JSON number: never sent as one
  EXPECT_EQ(b.Render(ctx).error().message, "| number: \"0042\" is not a number");
}

TEST(JsonBody, StringsAreEscapedAndNumbersChecked) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  doc["q"] = JsonBody::Marker(0);
  doc[JsonBody::Marker(1)] = "v";
  JsonBody b = Build(doc, {"say \"{{ word }}\"", "k-{{ vu }}"}, {false, true});
  TypedContext ctx;
  ctx.values["word"] = {"a\"b\\c\n", false};
  ctx.values["vu"] = {"3", true};
  EXPECT_EQ(b.Render(ctx).value(), R"({"q":"say \"a\"b\\c\n\"","k-3":"v"})");

  nlohmann::ordered_json d2 = nlohmann::ordered_json::array();
  d2.push_back(JsonBody::Marker(0));
  JsonBody n = Build(d2, {"{{ word | number }}"});
  EXPECT_EQ(n.Render(ctx).error().message, "| number: \"a\"b\\c\n\" is not a number");
  ctx.values["word"] = {" 12.5 ", false};
  EXPECT_EQ(n.Render(ctx).value(), "[12.5]");
}

}  // namespace
}  // namespace loadcell
