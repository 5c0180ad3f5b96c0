#include "metrics/gauge_key.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

TEST(GaugeKey, WritesLabelsSortedAndEscaped) {
  EXPECT_EQ(GaugeKey("monitor_up", {}), "monitor_up");
  EXPECT_EQ(GaugeKey("monitor_pods", {{"phase", "Running"}, {"ns", "shop"}}),
            R"(monitor_pods{ns="shop",phase="Running"})");
  EXPECT_EQ(GaugeKey("m", {{"v", "a\"b\\c\nd,}"}}), R"(m{v="a\"b\\c\nd,}"})");
}

TEST(GaugeKey, SplitsWhatItWrote) {
  Tags tags{{"path", "/a,b}"}, {"quote", "say \"hi\""}, {"slash", "C:\\x"}, {"line", "1\n2"}, {"empty", ""}};
  auto [metric, back] = SplitGaugeKey(GaugeKey("monitor_x", tags));
  EXPECT_EQ(metric, "monitor_x");
  EXPECT_EQ(back, tags);
  auto [plain, none] = SplitGaugeKey("target_cpu");
  EXPECT_EQ(plain, "target_cpu");
  EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace loadcell
