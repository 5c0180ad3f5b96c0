#include "output/progress.h"

#include <cstdio>

#include <gtest/gtest.h>

namespace loadcell {
namespace {

TEST(Progress, OneLinePerScenarioAndTotals) {
  RunMeta meta;
  meta.scenarios = {{"browse", "constant-vus", 10}, {"buy", "constant-arrival-rate", 5}};
  FILE* sink = std::tmpfile();
  Progress p(meta, sink, true);
  for (int t = 1; t <= 5; ++t) {
    SeriesPoint pt;
    pt.t = t;
    pt.vus = 7;
    pt.all.reqs = 100;
    pt.all.failed = t == 5 ? 10 : 0;
    pt.all.p95 = 1.5;
    pt.iterations_by_scenario = {{"browse", 40}, {"buy", 10}};
    pt.vus_by_scenario = {{"browse", 5}, {"buy", 2}};
    p.OnSecond(pt, MetricStore());
  }
  std::string text = p.Render();
  EXPECT_EQ(text,
            "  browse           [==========>         ]     5s/10s      5 VUs  200 iterations\n"
            "  buy              [====================]     5s/5s      2 VUs  50 iterations\n"
            "  total            vus 7  500 reqs  100.0/s  failed 2.00%  p95 1.50 ms\n");
  // On a terminal each redraw moves back over the previous one.
  std::rewind(sink);
  char buf[4096] = {0};
  size_t n = std::fread(buf, 1, sizeof buf - 1, sink);
  EXPECT_NE(std::string(buf, n).find("\x1b[3A"), std::string::npos);
  std::fclose(sink);
}

}  // namespace
}  // namespace loadcell
