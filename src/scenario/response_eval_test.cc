#include "scenario/response_eval.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

Check StatusCheck(std::vector<int> s) {
  Check c;
  c.kind = Check::Kind::kStatus;
  c.statuses = std::move(s);
  return c;
}

TEST(ResponseEval, ChecksAgainstARealParse) {
  // Parse a real response through the client parser and the collector, as the VU will.
  std::string wire =
      "HTTP/1.1 201 Created\r\nX-Id: 42\r\nContent-Type: application/json\r\nContent-Length: 44\r\n\r\n"
      "{\"token\":\"abc\",\"items\":[{\"n\":1},{\"id\":7}]}  ";
  http1::ResponseParser p;
  ResponseCollector col;
  p.Reset(false, &col);
  ASSERT_EQ(p.Feed(wire.data(), wire.size()), wire.size());
  ASSERT_TRUE(p.done());
  ResponseView view{p.status(), &col.headers(), col.body(), 30 * kMilli};
  ResponseEvaluator ev(view);

  std::string seen;
  EXPECT_TRUE(ev.Evaluate(StatusCheck({200, 201}), &seen));
  EXPECT_FALSE(ev.Evaluate(StatusCheck({200}), &seen));
  EXPECT_EQ(seen, "status 201");

  Check body;
  body.kind = Check::Kind::kBodyContains;
  body.subject = "\"token\"";
  EXPECT_TRUE(ev.Evaluate(body));

  Check json;
  json.kind = Check::Kind::kJson;
  json.path = *JsonPath::Parse("$.items[*].id");
  json.equals = "7";
  EXPECT_TRUE(ev.Evaluate(json, &seen));
  json.equals = "8";
  EXPECT_FALSE(ev.Evaluate(json, &seen));
  EXPECT_EQ(seen, "7");

  Check header;
  header.kind = Check::Kind::kHeader;
  header.subject = "x-id";
  header.equals = "42";
  EXPECT_TRUE(ev.Evaluate(header));

  Check slow;
  slow.kind = Check::Kind::kMaxDuration;
  slow.max_duration = 20 * kMilli;
  EXPECT_FALSE(ev.Evaluate(slow, &seen));
  EXPECT_EQ(seen, "30.000ms");

  Capture token;
  token.kind = Capture::Kind::kJson;
  token.path = *JsonPath::Parse("$.token");
  EXPECT_EQ(ev.Extract(token).value(), "abc");
  Capture id;
  id.kind = Capture::Kind::kHeader;
  id.source = "X-ID";
  EXPECT_EQ(ev.Extract(id).value(), "42");
  Capture re;
  re.kind = Capture::Kind::kRegex;
  re.regex = std::make_shared<const std::regex>("\"id\":(\\d+)");
  EXPECT_EQ(ev.Extract(re).value(), "7");
  Capture missing;
  missing.kind = Capture::Kind::kJson;
  missing.path = *JsonPath::Parse("$.nope");
  EXPECT_FALSE(ev.Extract(missing).has_value());
}

TEST(ResponseEval, NonJsonBodiesFailJsonChecks) {
  ResponseView view{200, nullptr, "plain text", 0};
  ResponseEvaluator ev(view);
  Check json;
  json.kind = Check::Kind::kJson;
  json.path = *JsonPath::Parse("$.a");
  std::string seen;
  EXPECT_FALSE(ev.Evaluate(json, &seen));
  EXPECT_EQ(seen, "body is not JSON");
}

TEST(ResponseCollector, BoundsTheBody) {
  ResponseCollector c;
  std::string chunk(700 * 1024, 'x');
  c.OnBody(chunk);
  c.OnBody(chunk);
  EXPECT_EQ(c.body().size(), ResponseCollector::kMaxBody);
  EXPECT_TRUE(c.truncated());
  c.Clear();
  EXPECT_TRUE(c.body().empty());
}

}  // namespace
}  // namespace loadcell
