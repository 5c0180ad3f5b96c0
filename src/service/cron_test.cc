#include "service/cron.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

// 2026-11-30 23:17:20 UTC is a Monday.
constexpr double kMonday = 1796080640;

TEST(CronSchedule, EveryFiveMinutes) {
  auto c = CronSchedule::Parse("*/5 * * * *");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->NextAfter(kMonday), 1796080800);  // 23:20:00
}

TEST(CronSchedule, DailyAtTwoThirty) {
  auto c = CronSchedule::Parse("30 2 * * *");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->NextAfter(kMonday), 1796092200);  // Tuesday 02:30
}

TEST(CronSchedule, WeekdaysAndShorthands) {
  auto c = CronSchedule::Parse("0 9 * * 1-5");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->NextAfter(kMonday), 1796115600);    // Tuesday 09:00
  auto sunday = CronSchedule::Parse("0 0 * * 7");  // 7 is Sunday too
  ASSERT_TRUE(sunday.ok());
  EXPECT_EQ(sunday->NextAfter(kMonday), 1796515200);  // Sunday 6 December 00:00
  auto weekly = CronSchedule::Parse("@weekly");
  ASSERT_TRUE(weekly.ok());
  EXPECT_EQ(weekly->NextAfter(kMonday), 1796515200);
  auto hourly = CronSchedule::Parse("@hourly");
  ASSERT_TRUE(hourly.ok());
  EXPECT_EQ(hourly->NextAfter(kMonday), 1796083200);  // Tuesday 00:00
}

TEST(CronSchedule, DayOfMonthOrDayOfWeek) {
  // Both restricted: either matches (Vixie cron). The 1st of December 2026 is a Tuesday.
  auto c = CronSchedule::Parse("0 0 1 * 5");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->NextAfter(kMonday), 1796083200);     // Tuesday 1 Dec 00:00 (the 1st)
  EXPECT_EQ(c->NextAfter(1796083200), 1796342400);  // Friday 4 Dec 00:00
}

TEST(CronSchedule, Every) {
  auto c = CronSchedule::Parse("@every 90s");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->NextAfter(100), 190);
  EXPECT_FALSE(CronSchedule::Parse("@every 10ms").ok());
}

TEST(CronSchedule, NeverFiresReturnsZero) {
  auto c = CronSchedule::Parse("0 0 31 2 *");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->NextAfter(kMonday), 0);
}

TEST(CronSchedule, ErrorsNameTheField) {
  auto bad = CronSchedule::Parse("61 * * * *");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "cron minute field \"61\": values must be within 0-59");
  EXPECT_EQ(CronSchedule::Parse("* * *").error().message.substr(0, 31), "cron \"* * *\": expected 5 fields");
  EXPECT_EQ(CronSchedule::Parse("x * * * *").error().message,
            "cron minute field \"x\": expected *, a number, a range or a list");
  EXPECT_EQ(CronSchedule::Parse("*/0 * * * *").error().message, "cron minute field \"*/0\": invalid step");
}

}  // namespace
}  // namespace loadcell
