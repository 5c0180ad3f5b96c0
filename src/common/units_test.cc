#include "common/units.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

TEST(ParseDuration, AcceptsUnitsAndCompounds) {
  EXPECT_EQ(*ParseDuration("500ms"), 500 * kMilli);
  EXPECT_EQ(*ParseDuration("2s"), 2 * kSecond);
  EXPECT_EQ(*ParseDuration("1m30s"), 90 * kSecond);
  EXPECT_EQ(*ParseDuration("1h"), 3600 * kSecond);
  EXPECT_EQ(*ParseDuration("1.5s"), 1500 * kMilli);
  EXPECT_EQ(*ParseDuration("250us"), 250 * kMicro);
  EXPECT_EQ(*ParseDuration("0"), 0);
  EXPECT_EQ(*ParseDuration("1h2m3s4ms"), 3723 * kSecond + 4 * kMilli);
}

TEST(ParseDuration, RejectsWithReason) {
  EXPECT_EQ(ParseDuration("").error().message, "invalid duration \"\": empty");
  EXPECT_EQ(ParseDuration("-1s").error().message, "invalid duration \"-1s\": must not be negative");
  EXPECT_EQ(ParseDuration("10").error().message, "invalid duration \"10\": missing unit (us, ms, s, m, h)");
  EXPECT_FALSE(ParseDuration("5x").ok());
  EXPECT_FALSE(ParseDuration("s").ok());
  EXPECT_EQ(ParseDuration("abc").error().kind, ErrorKind::kInvalidArgument);
}

TEST(ParseNumbers, RatesAndProbabilities) {
  EXPECT_DOUBLE_EQ(*ParsePositiveNumber("1000"), 1000);
  EXPECT_DOUBLE_EQ(*ParsePositiveNumber("2.5"), 2.5);
  EXPECT_FALSE(ParsePositiveNumber("0").ok());
  EXPECT_FALSE(ParsePositiveNumber("-3").ok());
  EXPECT_FALSE(ParsePositiveNumber("12abc").ok());
  EXPECT_DOUBLE_EQ(*ParseProbability("0.25"), 0.25);
  EXPECT_DOUBLE_EQ(*ParseProbability("5%"), 0.05);
  EXPECT_FALSE(ParseProbability("1.5").ok());
  EXPECT_FALSE(ParseProbability("x").ok());
}

TEST(Format, DurationsAndBytes) {
  EXPECT_EQ(FormatDuration(850 * kMicro), "850us");
  EXPECT_EQ(FormatDuration(12340 * kMicro), "12.34ms");
  EXPECT_EQ(FormatDuration(1200 * kMilli), "1.20s");
  EXPECT_EQ(FormatBytes(512), "512B");
  EXPECT_EQ(FormatBytes(1536), "1.50KB");
}

TEST(Units, ParsesSizes) {
  EXPECT_EQ(*ParseSize("512"), 512);
  EXPECT_EQ(*ParseSize("512B"), 512);
  EXPECT_EQ(*ParseSize("64KB"), 64 * 1024);
  EXPECT_EQ(*ParseSize("1.5mb"), 1536 * 1024);
  EXPECT_EQ(*ParseSize("1GB"), int64_t{1} << 30);
  EXPECT_FALSE(ParseSize("").ok());
  EXPECT_FALSE(ParseSize("12 parsecs").ok());
  EXPECT_FALSE(ParseSize("-1KB").ok());
  EXPECT_NE(ParseSize("3XB").error().message.find("16MB"), std::string::npos);
}

}  // namespace
}  // namespace loadcell
