#include "common/redact.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

TEST(Redact, SecretHeadersInCommandLines) {
  EXPECT_TRUE(IsSecretHeader("Authorization"));
  EXPECT_TRUE(IsSecretHeader("set-COOKIE"));
  EXPECT_FALSE(IsSecretHeader("Accept"));
  EXPECT_EQ(RedactHeaderLine("Authorization: Bearer abc"), "Authorization: [redacted]");
  EXPECT_EQ(RedactHeaderLine("X-Tenant: 7"), "X-Tenant: 7");
  EXPECT_EQ(RecordedCommandLine({"loadcell", "quick", "http://h/", "-H", "Authorization: Bearer s3cret", "-H",
                                 "Accept: */*", "--header=Cookie: sid=42", "-HProxy-Authorization: Basic eA=="}),
            "loadcell quick http://h/ -H Authorization: [redacted] -H Accept: */* --header=Cookie: [redacted] "
            "-HProxy-Authorization: [redacted]");
  EXPECT_EQ(RecordedCommandLine({"loadcell", "quick", "http://h/", "-H", "Cookie: a=b", "--no-redact"}),
            "loadcell quick http://h/ -H Cookie: a=b --no-redact");
}

TEST(Redact, SecretEnvValuesInCommandLines) {
  EXPECT_TRUE(IsSecretName("API_KEY"));
  EXPECT_TRUE(IsSecretName("db_Password"));
  EXPECT_TRUE(IsSecretName("SESSION_ID"));
  EXPECT_FALSE(IsSecretName("RATE"));
  EXPECT_EQ(RecordedCommandLine({"loadcell", "run", "t.yaml", "-e", "API_TOKEN=abc123", "-e", "RATE=200",
                                 "--env=PGPASSWORD=pw", "-eAUTH=x"}),
            "loadcell run t.yaml -e API_TOKEN=[redacted] -e RATE=200 --env=PGPASSWORD=[redacted] -eAUTH=[redacted]");
  EXPECT_EQ(RecordedCommandLine({"loadcell", "run", "t.yaml", "-e", "API_TOKEN=abc123", "--no-redact"}),
            "loadcell run t.yaml -e API_TOKEN=abc123 --no-redact");
}

TEST(Redact, UrlPasswordsInCommandLines) {
  EXPECT_EQ(
      RecordedCommandLine({"loadcell", "quick", "http://h/", "--monitor-postgres",
                           "postgres://monitor:hunter22@db:5432/shop", "--monitor-scrape=https://u:pw@app/metrics"}),
      "loadcell quick http://h/ --monitor-postgres postgres://monitor:[redacted]@db:5432/shop "
      "--monitor-scrape=https://u:[redacted]@app/metrics");
}

TEST(Redact, RedactorReplacesEveryOccurrenceLongestFirst) {
  Redactor r({"s3cret", "s3cret-long", "ab", ""});
  EXPECT_EQ(r.Apply("ws://h/?t=s3cret-long&u=s3cret: refused"), "ws://h/?t=[redacted]&u=[redacted]: refused");
  EXPECT_EQ(r.Apply("ab stays: too short to redact safely"), "ab stays: too short to redact safely");
  EXPECT_EQ(r.Apply("s3crets3cret"), "[redacted][redacted]");
  EXPECT_TRUE(Redactor().empty());
  EXPECT_EQ(Redactor().Apply("anything"), "anything");
}

TEST(Redact, UrlPasswords) {
  EXPECT_EQ(RedactUrl("https://bob:s3cret@prom.example:9090/api/v1/query?q=up"),
            "https://bob:[redacted]@prom.example:9090/api/v1/query?q=up");
  EXPECT_EQ(RedactUrl("http://127.0.0.1:9100/metrics"), "http://127.0.0.1:9100/metrics");
  EXPECT_EQ(RedactUrl("http://bob@host/x"), "http://bob@host/x");          // no password
  EXPECT_EQ(RedactUrl("http://host/x?a=b:c@d"), "http://host/x?a=b:c@d");  // not in the authority
}

}  // namespace
}  // namespace loadcell
