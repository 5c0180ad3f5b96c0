#include "protocol/http1/response_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace loadcell::http1 {
namespace {

struct Collect : ResponseObserver {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  void OnHeader(std::string_view n, std::string_view v) override { headers.emplace_back(n, v); }
  void OnBody(std::string_view c) override { body.append(c); }
  void OnStart() override {
    headers.clear();
    body.clear();
  }
};

struct Outcome {
  bool done = false;
  ParseError error = ParseError::kNone;
  int status = 0;
  bool keep_alive = false;
  int64_t body_bytes = 0;
  size_t consumed = 0;
  std::string body;
  bool operator==(const Outcome& o) const {
    return done == o.done && error == o.error && status == o.status && keep_alive == o.keep_alive &&
           body_bytes == o.body_bytes && consumed == o.consumed && body == o.body;
  }
};

// Feeds `wire` in the pieces given by `cuts`, stopping at the end of the response; `eof`
// closes the connection after the last byte.
Outcome Parse(const std::string& wire, const std::vector<size_t>& cuts, bool head = false, bool eof = false) {
  ResponseParser p;
  Collect c;
  p.Reset(head, &c);
  Outcome o;
  size_t pos = 0;
  std::vector<size_t> bounds = cuts;
  bounds.push_back(wire.size());
  for (size_t b : bounds) {
    while (pos < b && !p.done() && p.error() == ParseError::kNone) {
      pos += p.Feed(wire.data() + pos, b - pos);
    }
  }
  if (eof && !p.done() && p.error() == ParseError::kNone) p.OnEof();
  o.done = p.done();
  o.error = p.error();
  o.status = p.status();
  o.keep_alive = p.keep_alive();
  o.body_bytes = p.body_bytes();
  o.consumed = pos;
  o.body = c.body;
  return o;
}

// The same result whether the bytes come in one read, split at any single point, or
// one byte at a time.
Outcome ParseEverySplit(const std::string& wire, bool head = false, bool eof = false) {
  Outcome whole = Parse(wire, {}, head, eof);
  for (size_t i = 1; i < wire.size(); ++i) {
    Outcome split = Parse(wire, {i}, head, eof);
    EXPECT_TRUE(split == whole) << "split at " << i << " of " << wire.size();
    if (!(split == whole)) break;
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < wire.size(); ++i) every.push_back(i);
  EXPECT_TRUE(Parse(wire, every, head, eof) == whole) << "byte by byte";
  return whole;
}

TEST(ResponseParser, ContentLength) {
  Outcome o = ParseEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello");
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.status, 200);
  EXPECT_TRUE(o.keep_alive);
  EXPECT_EQ(o.body, "hello");
  EXPECT_EQ(o.body_bytes, 5);
}

TEST(ResponseParser, StopsAtTheEndOfTheResponse) {
  std::string two = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 404 Not Found\r\n";
  Outcome o = Parse(two, {});
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.consumed, two.find("HTTP/1.1 404"));
}

TEST(ResponseParser, ChunkedWithExtensionsAndTrailers) {
  Outcome o = ParseEverySplit(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n");
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.body, "hello world");
  EXPECT_EQ(o.error, ParseError::kNone);
}

TEST(ResponseParser, ChunkedUppercaseHexNoTrailers) {
  std::string body(0x1A, 'z');
  Outcome o =
      ParseEverySplit("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1A\r\n" + body + "\r\n0\r\n\r\n");
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.body_bytes, 0x1A);
}

TEST(ResponseParser, ConnectionClose) {
  Outcome o = ParseEverySplit("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(o.done);
  EXPECT_FALSE(o.keep_alive);
  Outcome t = ParseEverySplit("HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_FALSE(t.keep_alive);
}

TEST(ResponseParser, Http10) {
  EXPECT_FALSE(ParseEverySplit("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx").keep_alive);
  EXPECT_TRUE(ParseEverySplit("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx").keep_alive);
}

TEST(ResponseParser, BodyUntilClose) {
  Outcome open = Parse("HTTP/1.1 200 OK\r\n\r\nstreaming", {});
  EXPECT_FALSE(open.done);
  Outcome o = ParseEverySplit("HTTP/1.1 200 OK\r\n\r\nstreaming", false, true);
  EXPECT_TRUE(o.done);
  EXPECT_FALSE(o.keep_alive);
  EXPECT_EQ(o.body, "streaming");
}

TEST(ResponseParser, NoBodyCases) {
  // HEAD: Content-Length describes the body that was not sent.
  Outcome head = ParseEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", true);
  EXPECT_TRUE(head.done);
  EXPECT_EQ(head.body_bytes, 0);
  for (const char* s : {"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", "HTTP/1.1 304 Not Modified\r\n\r\n"}) {
    Outcome o = ParseEverySplit(s);
    EXPECT_TRUE(o.done) << s;
    EXPECT_TRUE(o.keep_alive) << s;
  }
}

TEST(ResponseParser, InterimResponsesAreSkipped) {
  Outcome o = ParseEverySplit(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.status, 201);
  EXPECT_EQ(o.body, "ok");
}

TEST(ResponseParser, BareLineFeedsAccepted) {
  Outcome o = ParseEverySplit("HTTP/1.1 200 OK\nContent-Length: 2\n\nok");
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.body, "ok");
}

TEST(ResponseParser, MalformedStatusLines) {
  for (const char* s : {"garbage\r\n\r\n", "HTTP/2.0 200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
                        "HTTP/1.1 200OK\r\n\r\n", "HTTP/1.1 099 Low\r\n\r\n", "<html>hello</html>\n"}) {
    EXPECT_EQ(ParseEverySplit(s).error, ParseError::kBadStatusLine) << s;
  }
}

TEST(ResponseParser, MalformedHeaders) {
  EXPECT_EQ(ParseEverySplit("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n").error, ParseError::kBadHeader);
  EXPECT_EQ(ParseEverySplit("HTTP/1.1 200 OK\r\n folded: x\r\n\r\n").error, ParseError::kBadHeader);
  EXPECT_EQ(ParseEverySplit("HTTP/1.1 200 OK\r\n: empty\r\n\r\n").error, ParseError::kBadHeader);
}

TEST(ResponseParser, BadContentLength) {
  EXPECT_EQ(ParseEverySplit("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").error, ParseError::kBadContentLength);
  EXPECT_EQ(ParseEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n").error, ParseError::kBadContentLength);
  EXPECT_EQ(ParseEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").error,
            ParseError::kBadContentLength);
  EXPECT_EQ(ParseEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n").error,
            ParseError::kBadContentLength);
  // Identical duplicates are allowed (RFC 9110 8.6).
  EXPECT_TRUE(ParseEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx").done);
}

TEST(ResponseParser, BadChunks) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(ParseEverySplit(head + "zz\r\n").error, ParseError::kBadChunk);
  EXPECT_EQ(ParseEverySplit(head + "3\r\nabcX\r\n").error, ParseError::kBadChunk);
  EXPECT_EQ(ParseEverySplit(head + "\r\n").error, ParseError::kBadChunk);
  EXPECT_EQ(ParseEverySplit(head + "1234567890123456\r\n").error, ParseError::kBadChunk);
  EXPECT_EQ(ParseEverySplit(head + "0\r\nbad trailer\r\n\r\n").error, ParseError::kBadChunk);
}

TEST(ResponseParser, HeaderSectionLimit) {
  std::string big = "HTTP/1.1 200 OK\r\n";
  while (big.size() <= ResponseParser::kMaxHeaderBytes) big += "X-Filler: " + std::string(100, 'a') + "\r\n";
  big += "\r\n";
  EXPECT_EQ(Parse(big, {}).error, ParseError::kHeaderTooLarge);
  // A single endless line too, fed in small pieces.
  std::string endless = "HTTP/1.1 200 OK\r\nX: " + std::string(70000, 'b');
  std::vector<size_t> cuts;
  for (size_t i = 100; i < endless.size(); i += 1000) cuts.push_back(i);
  EXPECT_EQ(Parse(endless, cuts).error, ParseError::kHeaderTooLarge);
  // Just under the limit is fine.
  std::string ok = "HTTP/1.1 200 OK\r\nX: " + std::string(ResponseParser::kMaxHeaderBytes - 30, 'c') + "\r\n\r\n";
  EXPECT_TRUE(Parse(ok, {}, false, true).done);
}

TEST(ResponseParser, TruncatedAtEof) {
  EXPECT_EQ(ParseEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", false, true).error,
            ParseError::kTruncated);
  EXPECT_EQ(ParseEverySplit("HTTP/1.1 200 OK\r\nContent-Le", false, true).error, ParseError::kTruncated);
  EXPECT_EQ(ParseEverySplit("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", false, true).error,
            ParseError::kTruncated);
}

TEST(ResponseParser, LargeBodyIsStreamedNotBuffered) {
  ResponseParser p;
  p.Reset();
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 209715200\r\n\r\n";
  ASSERT_EQ(p.Feed(head.data(), head.size()), head.size());
  std::string chunk(65536, 'x');
  int64_t sent = 0;
  while (!p.done()) {
    size_t n = std::min<int64_t>(chunk.size(), 209715200 - sent);
    ASSERT_EQ(p.Feed(chunk.data(), n), n);
    sent += static_cast<int64_t>(n);
  }
  EXPECT_EQ(p.body_bytes(), 209715200);
}

TEST(ResponseParser, ObserverSeesHeaders) {
  ResponseParser p;
  Collect c;
  p.Reset(false, &c);
  std::string r = "HTTP/1.1 200 OK\r\nX-Id:  42 \r\nContent-Length: 0\r\n\r\n";
  p.Feed(r.data(), r.size());
  ASSERT_EQ(c.headers.size(), 2u);
  EXPECT_EQ(c.headers[0].first, "X-Id");
  EXPECT_EQ(c.headers[0].second, "42");
}

}  // namespace
}  // namespace loadcell::http1
