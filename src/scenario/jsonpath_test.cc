#include "scenario/jsonpath.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

const nlohmann::json kDoc = nlohmann::json::parse(R"({
  "token": "abc", "n": 3, "ok": true,
  "a": {"b": [{"c": "deep"}, {"c": "second"}]},
  "items": [{"name": "x"}, {"id": 7}, {"id": 8}],
  "odd key": {"v": null}
})");

std::string Get(const char* path) {
  auto p = JsonPath::Parse(path);
  EXPECT_TRUE(p.ok()) << path;
  const nlohmann::json* v = p->FirstMatch(kDoc);
  return v == nullptr ? "<none>" : JsonText(*v);
}

TEST(JsonPath, Selects) {
  EXPECT_EQ(Get("$.token"), "abc");
  EXPECT_EQ(Get("$.n"), "3");
  EXPECT_EQ(Get("$.ok"), "true");
  EXPECT_EQ(Get("$.a.b[0].c"), "deep");
  EXPECT_EQ(Get("$.a.b[1].c"), "second");
  EXPECT_EQ(Get("$.items[*].id"), "7");  // first match in document order
  EXPECT_EQ(Get("$['odd key'].v"), "null");
  EXPECT_EQ(Get("$.*.b[0].c"), "deep");
  EXPECT_EQ(Get("$"), kDoc.dump());
  EXPECT_EQ(Get("$.missing"), "<none>");
  EXPECT_EQ(Get("$.a.b[5]"), "<none>");
  EXPECT_EQ(Get("$.token.x"), "<none>");
}

TEST(JsonPath, Errors) {
  size_t at = 0;
  EXPECT_EQ(JsonPath::Parse("token").error().message, "invalid JSONPath \"token\": must start with $");
  EXPECT_EQ(JsonPath::Parse("$.a[x]", &at).error().message,
            "invalid JSONPath \"$.a[x]\": expected an index, '*' or a quoted name in [ ]");
  EXPECT_EQ(at, 4u);
  EXPECT_FALSE(JsonPath::Parse("$.").ok());
  EXPECT_FALSE(JsonPath::Parse("$.a[0").ok());
  EXPECT_FALSE(JsonPath::Parse("$['a").ok());
  EXPECT_FALSE(JsonPath::Parse("$a").ok());
}

}  // namespace
}  // namespace loadcell
