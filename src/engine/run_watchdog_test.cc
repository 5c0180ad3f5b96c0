// The run loop honours its end time and its signals whatever the schedule says: a
// schedule that slipped past validation (NaN, infinite, absurdly high rates) must neither
// spin past the test's end nor ignore an interrupt.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "engine/run_coordinator.h"
#include "engine/run_plan.h"
#include "scenario/loader.h"

namespace loadcell {
namespace {

TestDefinition OpenTest(const char* duration) {
  std::string yaml = std::string(R"(target: http://127.0.0.1:1
scenarios:
  s:
    executor: constant-arrival-rate
    rate: 10
    duration: )") + duration +
                     R"(
    graceful_stop: 1s
    pre_allocated_vus: 2
    flow: [ { request: { url: /x } } ]
)";
  auto def = LoadTestText(yaml, "t.yaml", LoadOptions{{}, false});
  EXPECT_TRUE(def.ok()) << def.error().message;
  return std::move(def).value();
}

double Seconds(const std::function<void()>& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(RunWatchdog, BrokenRatesEndAtTheTestsEnd) {
  for (double rate : {std::nan(""), std::numeric_limits<double>::infinity(), 1e300, -5.0, 1e-300}) {
    TestDefinition def = OpenTest("1s");
    def.scenarios[0].rate = rate;  // what validation would refuse
    auto plan = PrepareTest(std::move(def), {}, 2, 1, false);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    std::atomic<bool> interrupted{false};
    double took = Seconds([&] { (void)RunTest(**plan, interrupted); });
    EXPECT_LT(took, 4.0) << "rate " << rate;
  }
}

TEST(RunWatchdog, AnInterruptEndsABrokenSchedule) {
  for (double rate : {std::nan(""), 1e300}) {
    TestDefinition def = OpenTest("10m");
    def.scenarios[0].rate = rate;
    auto plan = PrepareTest(std::move(def), {}, 2, 1, false);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    std::atomic<bool> interrupted{false};
    std::thread stopper([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the signal arriving mid-run
      interrupted.store(true);
    });
    double took = Seconds([&] { (void)RunTest(**plan, interrupted); });
    stopper.join();
    EXPECT_LT(took, 4.0) << "rate " << rate;
  }
}

}  // namespace
}  // namespace loadcell
