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

}  // namespace
}  // namespace loadcell
