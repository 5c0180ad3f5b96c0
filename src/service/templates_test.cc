#include "service/templates.h"

#include <gtest/gtest.h>

#include "scenario/loader.h"

namespace loadcell {
namespace {

TEST(Templates, EveryTemplateMakesAValidTest) {
  for (const TestTemplate& t : BuiltinTemplates()) {
    auto yaml = InstantiateTemplate(t.name, {{"url", "https://api.example.test:8443/v1/items?x=1"}});
    ASSERT_TRUE(yaml.ok()) << t.name << ": " << yaml.error().message;
    auto def = LoadTestText(*yaml, t.name + ".yaml", LoadOptions{{}, false});
    ASSERT_TRUE(def.ok()) << t.name << ": " << def.error().message << "\n" << *yaml;
    EXPECT_EQ(def->name, t.name);
    EXPECT_NE(yaml->find("target: \"https://api.example.test:8443\""), std::string::npos) << *yaml;
    EXPECT_NE(yaml->find("url: \"/v1/items?x=1\""), std::string::npos) << *yaml;
  }
}

TEST(Templates, LoadSplitsItsDurationTenEightyTen) {
  auto yaml = InstantiateTemplate(
      "load", {{"url", "http://127.0.0.1:8080/"}, {"vus", 30}, {"duration", "10m"}, {"name", "checkout"}});
  ASSERT_TRUE(yaml.ok());
  EXPECT_NE(yaml->find("name: \"checkout\""), std::string::npos);
  EXPECT_NE(yaml->find("{ duration: 60000ms, target: 30 }"), std::string::npos) << *yaml;
  EXPECT_NE(yaml->find("{ duration: 480000ms, target: 30 }"), std::string::npos) << *yaml;
  EXPECT_NE(yaml->find("{ duration: 60000ms, target: 0 }"), std::string::npos) << *yaml;
}

TEST(Templates, ParameterErrorsNameTheParameter) {
  EXPECT_EQ(InstantiateTemplate("load", nlohmann::json::object()).error().message,
            "params.url: required (the URL to load (http:// or https://))");
  EXPECT_EQ(InstantiateTemplate("load", {{"url", "ws://h/"}}).error().message,
            "params.url: expected an http:// or https:// URL");
  EXPECT_EQ(InstantiateTemplate("stress", {{"url", "http://h/"}, {"step", 5}}).error().message,
            "params.step: expected a string");
  EXPECT_EQ(InstantiateTemplate("nope", {}).error().message, "no template named \"nope\"");
}

}  // namespace
}  // namespace loadcell
