#include "engine/generator_fit.h"

#include <gtest/gtest.h>

#include "scenario/loader.h"

namespace loadcell {
namespace {

TEST(GeneratorFit, PeakVusSumsScenariosAndTakesTheShare) {
  auto def = LoadTestText(R"(target: http://h
scenarios:
  a: { executor: constant-vus, vus: 100, duration: 1s, flow: [ { think: 1s } ] }
  b: { executor: ramping-vus, start_vus: 5, stages: [ { duration: 1s, target: 300 }, { duration: 1s, target: 0 } ], flow: [ { think: 1s } ] }
  c: { executor: constant-arrival-rate, rate: 10, duration: 1s, pre_allocated_vus: 20, max_vus: 60, flow: [ { think: 1s } ] }
)",
                          "t.yaml", LoadOptions{{}, false});
  ASSERT_TRUE(def.ok()) << def.error().message;
  EXPECT_EQ(PeakVus(*def, ExecutionSegment()), 460);
  auto half = ExecutionSegment::FromArgs("1/2", "", 0);
  ASSERT_TRUE(half.ok());
  EXPECT_EQ(PeakVus(*def, *half), 230);
}

TEST(GeneratorFit, SaysHowManyFit) {
  EXPECT_FALSE(VusDoNotFit(19000, 20000, 64ULL << 30).has_value());
  auto files = VusDoNotFit(1000000000, 20000, 64ULL << 30);
  ASSERT_TRUE(files.has_value());
  EXPECT_EQ(*files,
            "1000000000 VUs at the peak need 1000000064 open files (a connection each), and this process may "
            "open 20000 (ulimit -n): at most 19936 VUs fit on this generator; raise the limit or split the test "
            "across generators (run --segment)");
  auto memory = VusDoNotFit(100000, 1 << 20, 1ULL << 30);
  ASSERT_TRUE(memory.has_value());
  EXPECT_NE(memory->find("at most 65536 VUs fit"), std::string::npos) << *memory;
}

}  // namespace
}  // namespace loadcell
