#include "service/cron.h"

#include <cmath>
#include <ctime>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "common/units.h"

namespace loadcell {
namespace {

// One field into `bits` (positions lo..hi); `any` tells whether it was `*`.
template <size_t N>
Status ParseField(const std::string& field, const char* name, int lo, int hi, std::bitset<N>* bits, bool* any) {
  *any = field == "*";
  std::stringstream parts(field);
  std::string part;
  while (std::getline(parts, part, ',')) {
    int step = 1;
    size_t slash = part.find('/');
    std::string range = part.substr(0, slash);
    if (slash != std::string::npos) {
      try {
        size_t used = 0;
        step = std::stoi(part.substr(slash + 1), &used);
        if (used != part.size() - slash - 1 || step < 1) throw std::invalid_argument("step");
      } catch (const std::exception&) {
        return Error::InvalidArgument(fmt::format("cron {} field \"{}\": invalid step", name, field));
      }
    }
    int a = lo, b = hi;
    if (range != "*") {
      size_t dash = range.find('-');
      try {
        size_t used = 0;
        a = std::stoi(range.substr(0, dash), &used);
        if (used != (dash == std::string::npos ? range.size() : dash)) throw std::invalid_argument("a");
        b = a;
        if (dash != std::string::npos) {
          b = std::stoi(range.substr(dash + 1), &used);
          if (used != range.size() - dash - 1) throw std::invalid_argument("b");
        } else if (slash != std::string::npos) {
          b = hi;  // "5/15": from 5 to the end
        }
      } catch (const std::exception&) {
        return Error::InvalidArgument(
            fmt::format("cron {} field \"{}\": expected *, a number, a range or a list", name, field));
      }
    }
    if (a < lo || b > hi || a > b) {
      return Error::InvalidArgument(
          fmt::format("cron {} field \"{}\": values must be within {}-{}", name, field, lo, hi));
    }
    for (int v = a; v <= b; v += step) bits->set(static_cast<size_t>(v % static_cast<int>(N)));
  }
  if (bits->none()) return Error::InvalidArgument(fmt::format("cron {} field is empty", name));
  return Status::Ok();
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(const std::string& raw) {
  std::string text = raw;
  if (text == "@hourly")
    text = "0 * * * *";
  else if (text == "@daily" || text == "@midnight")
    text = "0 0 * * *";
  else if (text == "@weekly")
    text = "0 0 * * 0";
  else if (text == "@monthly")
    text = "0 0 1 * *";
  CronSchedule c;
  if (text.rfind("@every ", 0) == 0) {
    auto d = ParseDuration(text.substr(7));
    if (!d.ok()) return Error::InvalidArgument(fmt::format("cron \"{}\": {}", raw, d.error().message));
    c.every_s_ = static_cast<double>(*d) / 1e9;
    if (c.every_s_ < 1) return Error::InvalidArgument(fmt::format("cron \"{}\": @every needs at least 1s", raw));
    return c;
  }
  std::stringstream ss(text);
  std::vector<std::string> f;
  for (std::string w; ss >> w;) f.push_back(w);
  if (f.size() != 5) {
    return Error::InvalidArgument(
        fmt::format("cron \"{}\": expected 5 fields (minute hour day-of-month month day-of-week) or "
                    "@hourly/@daily/@weekly/@monthly/@every D",
                    raw));
  }
  bool any = false;
  if (Status s = ParseField(f[0], "minute", 0, 59, &c.minute_, &any); !s.ok()) return s.error();
  if (Status s = ParseField(f[1], "hour", 0, 23, &c.hour_, &any); !s.ok()) return s.error();
  if (Status s = ParseField(f[2], "day-of-month", 1, 31, &c.dom_, &c.dom_any_); !s.ok()) return s.error();
  if (Status s = ParseField(f[3], "month", 1, 12, &c.month_, &any); !s.ok()) return s.error();
  if (Status s = ParseField(f[4], "day-of-week", 0, 7, &c.dow_, &c.dow_any_); !s.ok()) return s.error();  // 7 = Sunday
  return c;
}

double CronSchedule::NextAfter(double unix_s) const {
  if (every_s_ > 0) return unix_s + every_s_;
  auto t = static_cast<time_t>(std::floor(unix_s / 60) * 60 + 60);
  // Minute by minute, at most a little over four years (29 February on a Monday).
  for (int i = 0; i < 60 * 24 * 366 * 5; ++i, t += 60) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    bool dom = dom_.test(static_cast<size_t>(tm.tm_mday)), dow = dow_.test(static_cast<size_t>(tm.tm_wday));
    bool day = dom_any_ || dow_any_ ? (dom && dow) : (dom || dow);
    if (!day || !month_.test(static_cast<size_t>(tm.tm_mon + 1))) {
      t += static_cast<time_t>((23 - tm.tm_hour) * 3600 + (59 - tm.tm_min) * 60);  // to 23:59, then the next day
      continue;
    }
    if (!hour_.test(static_cast<size_t>(tm.tm_hour)) || !minute_.test(static_cast<size_t>(tm.tm_min))) continue;
    return static_cast<double>(t);
  }
  return 0;  // never (31 February)
}

}  // namespace loadcell
