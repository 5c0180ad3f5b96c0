#include "analysis/self_check.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

TEST(SelfCheckTest, QuietWhenTheGeneratorKeptUp) {
  MetricStore s;
  s.Gauge("generator_cpu", {}, 120);  // of 2 threads: fine
  for (int i = 0; i < 100; ++i) s.Trend("iteration_start_lag", Tags{}, 200 * kMicro);
  EXPECT_TRUE(SelfCheckTest(s, 10, 2).empty());
}

TEST(SelfCheckTest, BusyGeneratorLateStartsAndDrops) {
  MetricStore s;
  s.Gauge("generator_cpu", {}, 195);
  for (int i = 0; i < 100; ++i) s.Trend("iteration_start_lag", Tags{}, (i < 95 ? 100 : 5000) * kMicro);
  s.Count("dropped_iterations", Tags{{"scenario", "a"}}, 30);
  s.Count("iterations", Tags{{"scenario", "a"}}, 970);
  auto notes = SelfCheckTest(s, 10, 2);
  ASSERT_EQ(notes.size(), 3u);
  EXPECT_NE(notes[0].find("up to 195% CPU with 2 worker thread(s)"), std::string::npos) << notes[0];
  EXPECT_NE(notes[1].find("iteration_start_lag p99 5.00 ms"), std::string::npos) << notes[1];
  EXPECT_NE(notes[2].find("30 iterations were dropped (3.00/s; 970 ran)"), std::string::npos) << notes[2];
  // In a capacity search, dropping is the point.
  EXPECT_EQ(SelfCheckTest(s, 10, 2, true).size(), 2u);
}

}  // namespace
}  // namespace loadcell
