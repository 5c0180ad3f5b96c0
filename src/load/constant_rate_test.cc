#include "load/constant_rate.h"

#include <gtest/gtest.h>

#include <set>

namespace loadcell {
namespace {

// Walks the schedule on a fake clock in coarse steps, as an event loop that wakes late
// would, and checks that nothing drifts and nothing is lost.
TEST(ConstantRate, ExactCountAndTimesOnFakeClock) {
  FakeClock clock(5 * kSecond);
  const Nanos start = clock.Now();
  ConstantRateSchedule s(start, start + 10 * kSecond, 1000, 0, 1);
  std::deque<Nanos> q;
  while (!s.done()) {
    clock.Advance(3 * kMilli + 7 * kMicro);  // an irregular wake-up cadence
    s.TakeDue(clock.Now(), q);
  }
  ASSERT_EQ(q.size(), 10000u);
  for (size_t i = 0; i < q.size(); ++i) ASSERT_EQ(q[i], start + static_cast<Nanos>(i) * kMilli) << i;
  EXPECT_EQ(s.TakeDue(clock.Now() + kSecond, q), 0);  // nothing after the end
}

TEST(ConstantRate, NothingBeforeItsTime) {
  FakeClock clock(0);
  ConstantRateSchedule s(0, kSecond, 4, 0, 1);  // 0, 250ms, 500ms, 750ms
  std::deque<Nanos> q;
  EXPECT_EQ(s.TakeDue(0, q), 1);
  EXPECT_EQ(s.TakeDue(249 * kMilli, q), 0);
  EXPECT_EQ(s.next(), 250 * kMilli);
  EXPECT_EQ(s.TakeDue(250 * kMilli, q), 1);
  EXPECT_EQ(s.TakeDue(10 * kSecond, q), 2);
  EXPECT_TRUE(s.done());
}

// Worker w of n takes arrivals i % n == w: together they are the whole schedule exactly.
TEST(ConstantRate, WorkersPartitionTheSchedule) {
  const double rate = 333.3;
  const Nanos end = 3 * kSecond;
  ConstantRateSchedule whole(0, end, rate, 0, 1);
  std::deque<Nanos> all;
  whole.TakeDue(end, all);
  std::multiset<Nanos> merged;
  for (int w = 0; w < 3; ++w) {
    ConstantRateSchedule part(0, end, rate, w, 3);
    std::deque<Nanos> q;
    part.TakeDue(end, q);
    merged.insert(q.begin(), q.end());
  }
  EXPECT_EQ(all.size(), 1000u);  // ceil(3 s * 333.3/s)
  EXPECT_EQ(std::multiset<Nanos>(all.begin(), all.end()), merged);
}

TEST(ConstantRate, NoDriftAfterMillions) {
  ConstantRateSchedule s(0, 3600 * kSecond, 7777, 0, 1);
  for (int i = 0; i < 5'000'000; ++i) s.Advance();
  // 5e6 / 7777 s, to the nanosecond.
  EXPECT_NEAR(static_cast<double>(s.next()), 5e6 * 1e9 / 7777, 1.0);
}

}  // namespace
}  // namespace loadcell
