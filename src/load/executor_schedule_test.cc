#include "load/executor_schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "load/constant_rate.h"

namespace loadcell {
namespace {

std::vector<Nanos> All(ArrivalSchedule s) {
  std::vector<Nanos> out;
  while (!s.done()) {
    out.push_back(s.next());
    s.Advance();
  }
  return out;
}

TEST(ArrivalSchedule, RampUpHoldRampDownExactCounts) {
  // 0 -> 100/s over 10 s (area 500), 100/s for 10 s (1000), 100 -> 0 over 10 s (500).
  std::vector<RateStage> stages = {{10 * kSecond, 100}, {10 * kSecond, 100}, {10 * kSecond, 0}};
  auto times = All(ArrivalSchedule(0, kSecond, stages));
  ASSERT_EQ(times.size(), 2000u);
  // Ramp up: area 5 t^2 = i + 1  =>  t = sqrt((i + 1) / 5).
  for (int i : {0, 1, 99, 498}) {
    EXPECT_NEAR(static_cast<double>(times[static_cast<size_t>(i)]), std::sqrt((i + 1) / 5.0) * 1e9, 1.0) << i;
  }
  EXPECT_EQ(times[499], 10 * kSecond);                // area 500 lands on the stage's end
  EXPECT_EQ(times[500], 10 * kSecond + 10 * kMilli);  // then one every 10 ms
  EXPECT_EQ(times[1499], 20 * kSecond);
  EXPECT_EQ(times.back(), 30 * kSecond);  // area 2000 exactly at the end
  for (size_t i = 1; i < times.size(); ++i) ASSERT_LE(times[i - 1], times[i]);
  // Ramp down mirrors ramp up.
  EXPECT_NEAR(static_cast<double>(30 * kSecond - times[1998]), static_cast<double>(times[0]), 2.0);
}

TEST(ArrivalSchedule, TimeUnitAndStartRate) {
  // 60/min = 1/s, ramping to 120/min = 2/s over 60 s: area 90.
  auto times = All(ArrivalSchedule(60, 60 * kSecond, {{60 * kSecond, 120}}));
  EXPECT_EQ(times.size(), 90u);
  EXPECT_EQ(ArrivalSchedule::CountAll(60, 60 * kSecond, {{60 * kSecond, 120}}), 90);
  // A constant stage: rate * duration iterations, evenly spaced, the last at the end.
  auto flat = All(ArrivalSchedule(50, kSecond, {{2 * kSecond, 50}}));
  ASSERT_EQ(flat.size(), 100u);
  EXPECT_EQ(flat[0], 20 * kMilli);
  EXPECT_EQ(flat[99], 2 * kSecond);
}

TEST(ArrivalSchedule, ZeroRateStagesProduceNothing) {
  auto times = All(ArrivalSchedule(0, kSecond, {{5 * kSecond, 0}, {1 * kSecond, 10}}));
  EXPECT_EQ(times.size(), 5u);  // only the 0 -> 10 ramp: area 5
  EXPECT_GT(times[0], 5 * kSecond);
}

TEST(ArrivalSchedule, WorkersPartitionExactly) {
  std::vector<RateStage> stages = {{3 * kSecond, 333}, {2 * kSecond, 7}};
  auto whole = All(ArrivalSchedule(1, kSecond, stages));
  std::multiset<Nanos> merged;
  for (int w = 0; w < 3; ++w) {
    auto part = All(ArrivalSchedule(1, kSecond, stages, w, 3));
    merged.insert(part.begin(), part.end());
  }
  EXPECT_EQ(std::multiset<Nanos>(whole.begin(), whole.end()), merged);
}

TEST(ConstantArrivalRate, StartsAtZero) {
  // constant-arrival-rate (k6): the first iteration at t = 0, rate * duration in all.
  ConstantRateSchedule s(0, 10 * kSecond, 20, 0, 1);
  std::deque<Nanos> q;
  s.TakeDue(10 * kSecond, q);
  ASSERT_EQ(q.size(), 200u);
  EXPECT_EQ(q.front(), 0);
  EXPECT_EQ(q.back(), 9950 * kMilli);
}

TEST(VuSchedule, ConstantAndRamping) {
  auto c = ConstantVus(5, 10 * kSecond);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].vus, 5);
  EXPECT_EQ(c[1].at, 10 * kSecond);
  EXPECT_EQ(c[1].vus, 0);

  // 0 -> 4 over 4 s, hold 2 s, 4 -> 1 over 3 s.
  auto r = RampingVus(0, {{4 * kSecond, 4}, {2 * kSecond, 4}, {3 * kSecond, 1}});
  std::vector<std::pair<Nanos, int64_t>> got;
  for (const VuStep& s : r) got.emplace_back(s.at, s.vus);
  std::vector<std::pair<Nanos, int64_t>> want = {{0, 0},           {1 * kSecond, 1}, {2 * kSecond, 2},
                                                 {3 * kSecond, 3}, {4 * kSecond, 4}, {7 * kSecond, 3},
                                                 {8 * kSecond, 2}, {9 * kSecond, 0}};  // at 9 s: 1 wanted, then the end
  EXPECT_EQ(got, want);
}

TEST(VuSchedule, InstantJumps) {
  auto r = RampingVus(2, {{0, 10}, {5 * kSecond, 10}});
  ASSERT_GE(r.size(), 2u);
  EXPECT_EQ(r[0].at, 0);
  EXPECT_EQ(r[0].vus, 10);  // the 0 s stage jumps at once
  EXPECT_EQ(r.back().at, 5 * kSecond);
  EXPECT_EQ(r.back().vus, 0);
}

}  // namespace
}  // namespace loadcell
