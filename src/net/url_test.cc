#include "net/url.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

TEST(ParseUrl, Basics) {
  Url u = *ParseUrl("http://127.0.0.1:8080/api/v1?x=1");
  EXPECT_EQ(u.scheme, "http");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.path, "/api/v1?x=1");
  EXPECT_EQ(u.HostHeader(), "127.0.0.1:8080");

  Url s = *ParseUrl("https://example.test");
  EXPECT_TRUE(s.tls());
  EXPECT_EQ(s.port, 443);
  EXPECT_EQ(s.path, "/");
  EXPECT_EQ(s.HostHeader(), "example.test");

  Url v6 = *ParseUrl("http://[::1]:9000/x#frag");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.path, "/x");
  EXPECT_EQ(v6.HostHeader(), "[::1]:9000");

  EXPECT_EQ(ParseUrl("http://h?q=1")->path, "/?q=1");
}

TEST(ParseUrl, Errors) {
  EXPECT_EQ(ParseUrl("localhost:8080").error().message,
            "invalid URL \"localhost:8080\": expected http://host[:port]/path or https://... (ws:// or wss:// for "
            "WebSocket)");
  EXPECT_EQ(ParseUrl("ftp://x").error().message, "invalid URL \"ftp://x\": scheme must be http, https, ws or wss");
  EXPECT_EQ(ParseUrl("http://h:99999/").error().message,
            "invalid URL \"http://h:99999/\": port must be a number 1-65535");
  EXPECT_FALSE(ParseUrl("http:///x").ok());
  EXPECT_FALSE(ParseUrl("http://h:/").ok());
  EXPECT_FALSE(ParseUrl("http://u:p@h/").ok());
  EXPECT_FALSE(ParseUrl("http://h/a b").ok());
}

}  // namespace
}  // namespace loadcell
