#include "protocol/http1/request.h"

#include <gtest/gtest.h>

namespace loadcell::http1 {
namespace {

TEST(CompileRequest, GetWithDefaults) {
  RequestSpec s;
  s.url = *ParseUrl("http://127.0.0.1:8080/a?b=1");
  std::string r = *CompileRequest(s);
  EXPECT_EQ(r, "GET /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: loadcell/" LOADCELL_VERSION "\r\n\r\n");
}

TEST(CompileRequest, PostWithBodyAndHeaders) {
  RequestSpec s;
  s.method = "POST";
  s.url = *ParseUrl("http://h/x");
  s.headers = {{"Content-Type", "application/json"}, {"Host", "override"}};
  s.body = R"({"a":1})";
  std::string r = *CompileRequest(s);
  EXPECT_EQ(r, "POST /x HTTP/1.1\r\nUser-Agent: loadcell/" LOADCELL_VERSION
               "\r\nContent-Type: application/json\r\nHost: override\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
  RequestHead h = ParseRequestHead(r);
  EXPECT_EQ(h.state, RequestHead::State::kComplete);
  EXPECT_EQ(h.method, "POST");
  EXPECT_EQ(h.content_length, 7);
}

TEST(CompileRequest, RejectsBrokenFraming) {
  RequestSpec s;
  s.url = *ParseUrl("http://h/");
  s.method = "GE T";
  EXPECT_EQ(CompileRequest(s).error().message, "invalid method \"GE T\"");
  s.method = "GET";
  s.headers = {{"X", "a\r\nInjected: 1"}};
  EXPECT_FALSE(CompileRequest(s).ok());
}

TEST(ParseHeaderArg, Forms) {
  auto kv = *ParseHeaderArg("Authorization:  Bearer x ");
  EXPECT_EQ(kv.first, "Authorization");
  EXPECT_EQ(kv.second, "Bearer x");
  EXPECT_EQ(ParseHeaderArg("NoColon").error().message, "invalid header \"NoColon\": expected 'Name: value'");
  EXPECT_FALSE(ParseHeaderArg("Bad Name: v").ok());
}

TEST(ParseRequestHead, Cases) {
  EXPECT_EQ(ParseRequestHead("GET / HTTP/1.1\r\nHost: x\r\n").state, RequestHead::State::kIncomplete);
  RequestHead h = ParseRequestHead("GET /p HTTP/1.0\r\n\r\nrest");
  EXPECT_EQ(h.state, RequestHead::State::kComplete);
  EXPECT_FALSE(h.keep_alive);
  EXPECT_EQ(h.head_bytes, 19u);
  EXPECT_EQ(ParseRequestHead("GET / HTTP/3\r\n\r\n").state, RequestHead::State::kError);
  EXPECT_EQ(ParseRequestHead("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n").state, RequestHead::State::kError);
  EXPECT_TRUE(ParseRequestHead("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").chunked);
}

}  // namespace
}  // namespace loadcell::http1
