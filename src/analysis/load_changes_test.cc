#include "analysis/load_changes.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

ScenarioDef Ramping(double start, std::vector<std::pair<double, double>> stages /* seconds, target */) {
  ScenarioDef s;
  s.name = "spiky";
  s.executor = ExecutorKind::kRampingArrivalRate;
  s.start_rate = start;
  for (const auto& [secs, target] : stages) s.stages.push_back({static_cast<Nanos>(secs * 1e9), target});
  return s;
}

TEST(LoadChanges, ASpikeIsItsRiseAndItsFall) {
  TestDefinition def;
  // 10 s at 100/s, up to 1000 in 1 s, 5 s there, down in 1 s, 10 s at 100; then a step to 300.
  def.scenarios.push_back(Ramping(100, {{10, 100}, {1, 1000}, {5, 1000}, {1, 100}, {10, 100}, {1, 300}, {5, 300}}));
  auto changes = LoadChangesOf(def);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].kind, "spike");
  EXPECT_DOUBLE_EQ(changes[0].at_s, 10);
  EXPECT_DOUBLE_EQ(changes[0].end_s, 17);
  EXPECT_EQ(changes[0].from, 100);
  EXPECT_EQ(changes[0].to, 1000);
  EXPECT_EQ(changes[1].kind, "step up");
  EXPECT_DOUBLE_EQ(changes[1].at_s, 27);
  EXPECT_DOUBLE_EQ(changes[1].end_s, 28);
}

TEST(LoadChanges, ConstantExecutorsMakeNone) {
  TestDefinition def;
  ScenarioDef s;
  s.executor = ExecutorKind::kConstantArrivalRate;
  def.scenarios.push_back(s);
  EXPECT_TRUE(LoadChangesOf(def).empty());
}

// A series whose p99 is 10 ms but 200 ms in [from, to), and whose gauge steps to 3 at `step`.
std::vector<SeriesPoint> Series(int seconds, double from, double to, double step) {
  std::vector<SeriesPoint> out;
  for (int t = 1; t <= seconds; ++t) {
    SeriesPoint p;
    p.t = t;
    p.all.reqs = 100;
    const double start = t - 1;
    p.all.p99 = start >= from && start < to ? 200 : 10;
    p.resources["monitor_replicas"] = start >= step ? 3 : 1;
    p.resources["host_cpu"] = 40 + (t % 2);  // noise of ±1 %: no reaction
    out.push_back(p);
  }
  return out;
}

TEST(LoadChanges, RecoveryAndReactionsAreTimedFromTheChange) {
  TestDefinition def;
  def.scenarios.push_back(Ramping(100, {{10, 100}, {1, 1000}, {5, 1000}, {1, 100}, {15, 100}}));
  auto changes = LoadChangesOf(def);
  ASSERT_EQ(changes.size(), 1u);
  // Latency high from 10 s to 20 s: 3 s after the spike ended (17 s) it is back.
  AnalyzeLoadChanges(changes, {"monitor_replicas", "host_cpu"}, Series(32, 10, 20, 20));
  const LoadChangeReport& c = changes[0];
  ASSERT_TRUE(c.recovery_s.has_value());
  EXPECT_DOUBLE_EQ(*c.recovery_s, 3);
  ASSERT_TRUE(c.onset_s.has_value());
  EXPECT_DOUBLE_EQ(*c.onset_s, 0);
  EXPECT_DOUBLE_EQ(c.worst_p99_ms, 200);
  ASSERT_EQ(c.reactions.size(), 2u);
  ASSERT_TRUE(c.reactions[0].reaction_s.has_value());
  EXPECT_DOUBLE_EQ(*c.reactions[0].reaction_s, 10);  // scaled out 10 s after the spike began
  EXPECT_EQ(c.reactions[0].before, 1);
  EXPECT_EQ(c.reactions[0].after, 3);
  EXPECT_FALSE(c.reactions[1].reaction_s.has_value());
}

}  // namespace
}  // namespace loadcell
