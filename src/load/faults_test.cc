#include "load/faults.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

FaultDef Make(FaultDef::Kind kind, int at_s, int duration_s, const std::string& scenario = "") {
  FaultDef f;
  f.kind = kind;
  f.at = at_s * kSecond;
  f.duration = duration_s * kSecond;
  f.scenario = scenario;
  return f;
}

TEST(Faults, ActiveOnlyInTheirWindowAndScenario) {
  FaultDef bh = Make(FaultDef::Kind::kBlackhole, 10, 5, "api");
  EXPECT_FALSE(FaultsAt({bh}, 10 * kSecond - 1, "api").blackhole);
  EXPECT_TRUE(FaultsAt({bh}, 10 * kSecond, "api").blackhole);
  EXPECT_TRUE(FaultsAt({bh}, 15 * kSecond - 1, "api").blackhole);
  EXPECT_FALSE(FaultsAt({bh}, 15 * kSecond, "api").blackhole);
  EXPECT_FALSE(FaultsAt({bh}, 12 * kSecond, "web").any());
}

TEST(Faults, OverlappingFaultsCombine) {
  FaultDef a = Make(FaultDef::Kind::kLatency, 0, 10), b = Make(FaultDef::Kind::kLatency, 5, 10);
  a.latency = 100 * kMilli;
  a.jitter = 10 * kMilli;
  b.latency = 50 * kMilli;
  FaultDef r1 = Make(FaultDef::Kind::kReset, 0, 10), r2 = Make(FaultDef::Kind::kReset, 0, 10);
  r1.probability = 0.2;
  r2.probability = 0.5;
  FaultDef bw1 = Make(FaultDef::Kind::kBandwidth, 0, 10), bw2 = Make(FaultDef::Kind::kBandwidth, 0, 10);
  bw1.rate = 1000;
  bw2.rate = 300;
  ActiveFaults f = FaultsAt({a, b, r1, r2, bw1, bw2}, 6 * kSecond, "any");
  EXPECT_EQ(f.latency, 150 * kMilli);
  EXPECT_EQ(f.jitter, 10 * kMilli);
  EXPECT_DOUBLE_EQ(f.reset, 0.5);
  EXPECT_EQ(f.bandwidth, 300);
  EXPECT_EQ(FaultDelay(f, 0.0), 140 * kMilli);
  EXPECT_EQ(FaultDelay(f, 0.5), 150 * kMilli);
  EXPECT_EQ(FaultDelay(f, 0.99999999999), 160 * kMilli);
}

// The one decision every protocol takes: blackhole, then reset, then latency, drawing
// only what it needs and in that order (a seed replays the same run).
TEST(Faults, DecisionOrderAndDraws) {
  std::vector<double> draws;
  auto from = [&draws](std::vector<double> values) {
    draws = std::move(values);
    return [&draws] {
      double u = draws.front();
      draws.erase(draws.begin());
      return u;
    };
  };
  ActiveFaults none;
  auto d = DecideFault(none, from({}));
  EXPECT_EQ(d.action, FaultDecision::Action::kPass);

  ActiveFaults all;
  all.blackhole = true;
  all.reset = 1;
  all.latency = 100 * kMilli;
  d = DecideFault(all, from({0.0, 0.0}));
  EXPECT_EQ(d.action, FaultDecision::Action::kLose);
  EXPECT_EQ(draws.size(), 2u);  // a lost request draws nothing

  all.blackhole = false;
  all.reset = 0.3;
  d = DecideFault(all, from({0.29, 0.5}));
  EXPECT_EQ(d.action, FaultDecision::Action::kReset);
  EXPECT_EQ(draws.size(), 1u);  // the reset's draw only

  all.jitter = 20 * kMilli;
  d = DecideFault(all, from({0.3, 1.0 - 1e-12}));
  EXPECT_EQ(d.action, FaultDecision::Action::kHold);
  EXPECT_EQ(d.hold, 120 * kMilli);  // the second draw is the jitter's
  EXPECT_TRUE(draws.empty());

  ActiveFaults bandwidth_only;
  bandwidth_only.bandwidth = 1000;  // acts on reads, not on this decision
  d = DecideFault(bandwidth_only, from({}));
  EXPECT_EQ(d.action, FaultDecision::Action::kPass);
}

}  // namespace
}  // namespace loadcell
