#include "target/demo_api.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

TEST(DemoApi, LoginThenItems) {
  auto login = HandleDemo("POST", "/auth/login", "", "application/json", R"({"user":"ann","password":"x"})");
  EXPECT_EQ(login.status, 200);
  std::string token = IssueToken("ann");
  EXPECT_EQ(login.body, "{\"token\":\"" + token + "\"}");
  EXPECT_TRUE(ValidToken(token));
  EXPECT_FALSE(ValidToken("tok.ann.0000000000000000"));
  EXPECT_FALSE(ValidToken("tok.bob." + token.substr(token.rfind('.') + 1)));

  auto items = HandleDemo("GET", "/items?page=1", "Bearer " + token, "", "");
  EXPECT_EQ(items.status, 200);
  EXPECT_NE(items.body.find(R"({"id":1,"name":"item-1"})"), std::string::npos);
  EXPECT_EQ(HandleDemo("GET", "/items/3", "Bearer " + token, "", "").body, R"({"id":3,"name":"item-3"})");
  EXPECT_EQ(HandleDemo("GET", "/items/11", "Bearer " + token, "", "").status, 404);
  EXPECT_EQ(HandleDemo("GET", "/items", "", "", "").status, 401);
  EXPECT_EQ(HandleDemo("GET", "/items", "Bearer nope", "", "").status, 401);
}

TEST(DemoApi, LoginNeedsAUser) {
  EXPECT_EQ(HandleDemo("POST", "/auth/login", "", "", "not json").status, 400);
  EXPECT_EQ(HandleDemo("POST", "/auth/login", "", "", R"({"password":"x"})").status, 400);
}

TEST(DemoApi, EchoAndHealth) {
  auto e = HandleDemo("POST", "/echo", "", "text/plain", "hello");
  EXPECT_EQ(e.body, "hello");
  EXPECT_EQ(e.content_type, "text/plain");
  EXPECT_EQ(HandleDemo("GET", "/health", "", "", "").body, R"({"status":"ok"})");
  EXPECT_TRUE(IsDemoPath("GET", "/health"));
  EXPECT_FALSE(IsDemoPath("GET", "/auth/login"));  // login is POST only
  EXPECT_FALSE(IsDemoPath("GET", "/"));
  EXPECT_TRUE(DemoNeedsBody("/echo?x=1"));
}

}  // namespace
TEST(DemoApi, JobsAreReadyAfterTheirDelay) {
  auto created = HandleDemo("POST", "/jobs?ready_ms=250", "", "", "", 1000);
  EXPECT_EQ(created.status, 202);
  EXPECT_EQ(created.body, R"({"id":"1000-250"})");
  EXPECT_EQ(HandleDemo("GET", "/jobs/1000-250", "", "", "", 1249).status, 202);
  EXPECT_EQ(HandleDemo("GET", "/jobs/1000-250", "", "", "", 1249).body, R"({"state":"pending"})");
  EXPECT_EQ(HandleDemo("GET", "/jobs/1000-250", "", "", "", 1250).body, R"({"state":"done"})");
  EXPECT_EQ(HandleDemo("GET", "/jobs/nope", "", "", "", 1250).status, 404);
  EXPECT_EQ(HandleDemo("POST", "/jobs?ready_ms=-1", "", "", "", 0).status, 400);
}

}  // namespace loadcell
