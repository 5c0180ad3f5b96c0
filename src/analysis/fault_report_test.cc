#include "analysis/fault_report.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

// 30 seconds at 100 requests/s, p99 10 ms; `bad` seconds (1-based t) with p99 500 ms and
// half the requests failed.
std::vector<SeriesPoint> Seconds(const std::vector<int>& bad, int seconds = 30) {
  std::vector<SeriesPoint> out;
  for (int t = 1; t <= seconds; ++t) {
    SeriesPoint p;
    p.t = t;
    p.all.reqs = 100;
    p.all.p99 = 10;
    if (std::find(bad.begin(), bad.end(), t) != bad.end()) {
      p.all.p99 = 500;
      p.all.failed = 50;
    }
    out.push_back(p);
  }
  return out;
}

FaultDef Blackhole(int at, int duration) {
  FaultDef f;
  f.kind = FaultDef::Kind::kBlackhole;
  f.at = at * kSecond;
  f.duration = duration * kSecond;
  return f;
}

TEST(FaultReport, OnsetWorstFailedAndRecovery) {
  // Fault 10..15 s: seconds [11, 17) bad (t = 12..17: the effect starts 1 s in and lasts
  // 2 s past the end, a 1 s timeout's tail and a slow recovery).
  auto r = AnalyzeFaults({Blackhole(10, 5)}, Seconds({12, 13, 14, 15, 16, 17}));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].kind, "blackhole");
  EXPECT_DOUBLE_EQ(r[0].at_s, 10);
  ASSERT_TRUE(r[0].onset_s.has_value());
  EXPECT_DOUBLE_EQ(*r[0].onset_s, 1);
  ASSERT_TRUE(r[0].recovery_s.has_value());
  EXPECT_DOUBLE_EQ(*r[0].recovery_s, 2);  // second [17, 18) is the first of 3 good ones
  EXPECT_DOUBLE_EQ(r[0].worst_p99_ms, 500);
  EXPECT_DOUBLE_EQ(r[0].worst_error_rate, 0.5);
  EXPECT_EQ(r[0].failed, 6 * 50);            // seconds [11, 17); [17, 20) are the stable ones
  EXPECT_DOUBLE_EQ(r[0].band_p99_ms, 17.5);  // 10 x 1.25 + 5
}

TEST(FaultReport, NoEffectAndNoRecoveryWithinTheRun) {
  auto quiet = AnalyzeFaults({Blackhole(10, 5)}, Seconds({}));
  EXPECT_FALSE(quiet[0].onset_s.has_value());
  ASSERT_TRUE(quiet[0].recovery_s.has_value());
  EXPECT_DOUBLE_EQ(*quiet[0].recovery_s, 0);
  EXPECT_EQ(quiet[0].failed, 0);
  // Bad until the end: never recovered; failures counted to the end.
  auto stuck = AnalyzeFaults({Blackhole(10, 5)}, Seconds({11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, 20));
  EXPECT_FALSE(stuck[0].recovery_s.has_value());
  EXPECT_EQ(stuck[0].failed, 10 * 50);
  // Only 2 good seconds left after the fault: not yet "stayed within the band for 3 s".
  auto short_tail = AnalyzeFaults({Blackhole(10, 5)}, Seconds({11, 12, 13, 14, 15}, 17));
  EXPECT_FALSE(short_tail[0].recovery_s.has_value());
}

TEST(FaultReport, BandLeavesOutOtherFaultsAndSecondsWithoutRequests) {
  auto series = Seconds({6, 7});
  series[20].all.reqs = 0;  // second t = 21: nothing completed
  FaultDef early = Blackhole(5, 2), late = Blackhole(18, 2);
  auto r = AnalyzeFaults({early, late}, series);
  // The early fault's bad seconds are not in the late fault's band.
  EXPECT_DOUBLE_EQ(r[1].band_p99_ms, 17.5);
  // A second without a completed request is out of band: recovery waits for 22..24.
  ASSERT_TRUE(r[1].recovery_s.has_value());
  EXPECT_DOUBLE_EQ(*r[1].recovery_s, 1);
}

}  // namespace
}  // namespace loadcell
