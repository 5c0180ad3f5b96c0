// When a schedule fires: standard 5-field cron ("m h dom mon dow", UTC; `*`, lists,
// ranges, steps; day-of-month and day-of-week OR-ed when both are restricted, as in
// Vixie cron), the shorthands @hourly @daily @weekly @monthly, and `@every DURATION`
// (at least 1 s) for runs more often than once a minute.
#pragma once

#include <bitset>
#include <string>

#include "common/result.h"

namespace loadcell {

class CronSchedule {
 public:
  static Result<CronSchedule> Parse(const std::string& text);
  // The first firing strictly after `unix_s`.
  double NextAfter(double unix_s) const;

 private:
  double every_s_ = 0;  // @every
  std::bitset<60> minute_;
  std::bitset<24> hour_;
  std::bitset<32> dom_;    // 1..31
  std::bitset<13> month_;  // 1..12
  std::bitset<7> dow_;     // 0 = Sunday
  bool dom_any_ = true, dow_any_ = true;
};

}  // namespace loadcell
