#include "load/capacity_search.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

// Steps against a system whose true capacity is `cap`: a rate passes when below it.
std::vector<double> Search(double cap, CapacitySearch* s) {
  std::vector<double> tried;
  while (!s->done()) {
    tried.push_back(s->next());
    s->Report(s->next() <= cap);
  }
  return tried;
}

TEST(CapacitySearch, DoublesThenBisectsToTwoPercent) {
  CapacitySearch s(100, 100000, 0.02);
  std::vector<double> tried = Search(1000, &s);
  EXPECT_EQ(tried[0], 100);
  EXPECT_EQ(tried[1], 200);
  EXPECT_EQ(tried[2], 400);
  EXPECT_EQ(tried[3], 800);
  EXPECT_EQ(tried[4], 1600);  // first failure
  EXPECT_EQ(tried[5], 1200);  // bisect
  ASSERT_TRUE(s.found());
  EXPECT_LE(s.best(), 1000);
  EXPECT_GE(s.best(), 980);
  EXPECT_NE(s.why().find("converged"), std::string::npos);
}

TEST(CapacitySearch, MaxRatePasses) {
  CapacitySearch s(100, 500, 0.02);
  std::vector<double> tried = Search(1e9, &s);
  EXPECT_EQ(tried, (std::vector<double>{100, 200, 400, 500}));
  EXPECT_EQ(s.best(), 500);
}

TEST(CapacitySearch, NothingPassesDownToMinRate) {
  // min_rate defaults to start_rate / 16: 100, 50, 25, 12.5, 6.25 — then it is over.
  CapacitySearch s(100, 1000, 0.02, 30);
  std::vector<double> tried = Search(0, &s);
  EXPECT_EQ(tried, (std::vector<double>{100, 50, 25, 12.5, 6.25}));
  EXPECT_FALSE(s.found());
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.why(), "no passing rate found (failed at 6.25/s, the lowest allowed: min_rate)");
}

TEST(CapacitySearch, AnExplicitMinRateIsTriedLast) {
  CapacitySearch s(100, 1000, 0.02, 30, 40);
  std::vector<double> tried = Search(0, &s);
  EXPECT_EQ(tried, (std::vector<double>{100, 50, 40}));
  EXPECT_FALSE(s.found());
  // And a capacity just above min_rate is found.
  CapacitySearch t(100, 1000, 0.02, 30, 40);
  Search(45, &t);
  ASSERT_TRUE(t.found());
  EXPECT_GE(t.best(), 44);
}

TEST(CapacitySearch, GeneratorLimitStops) {
  CapacitySearch s(100, 1000);
  s.Report(true);
  s.Report(true, true);
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.best(), 200);
  EXPECT_NE(s.why().find("generator"), std::string::npos);
}

}  // namespace
}  // namespace loadcell
