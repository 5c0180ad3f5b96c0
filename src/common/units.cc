#include "common/units.h"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace loadcell {
namespace {

// Reads a non-negative decimal number at the front of `s`; returns characters consumed.
size_t ReadNumber(std::string_view s, double* out) {
  size_t i = 0;
  bool digits = false;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) != 0)) {
    ++i;
    digits = true;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) != 0)) {
      ++i;
      digits = true;
    }
  }
  if (!digits) return 0;
  *out = std::strtod(std::string(s.substr(0, i)).c_str(), nullptr);
  return i;
}

}  // namespace

Result<Nanos> ParseDuration(std::string_view text) {
  auto bad = [&](const char* why) {
    return Error::InvalidArgument(fmt::format("invalid duration \"{}\": {}", text, why));
  };
  if (text.empty()) return bad("empty");
  if (text == "0") return Nanos{0};
  if (text[0] == '-') return bad("must not be negative");
  long double total = 0;
  std::string_view s = text;
  while (!s.empty()) {
    double n = 0;
    size_t used = ReadNumber(s, &n);
    if (used == 0) return bad("expected a number followed by a unit (us, ms, s, m, h), like 500ms or 1m30s");
    s.remove_prefix(used);
    Nanos unit = 0;
    if (s.starts_with("us")) {
      unit = kMicro;
      s.remove_prefix(2);
    } else if (s.starts_with("µs")) {
      unit = kMicro;
      s.remove_prefix(3);
    } else if (s.starts_with("ms")) {
      unit = kMilli;
      s.remove_prefix(2);
    } else if (s.starts_with("ns")) {
      unit = 1;
      s.remove_prefix(2);
    } else if (s.starts_with("s")) {
      unit = kSecond;
      s.remove_prefix(1);
    } else if (s.starts_with("m")) {
      unit = 60 * kSecond;
      s.remove_prefix(1);
    } else if (s.starts_with("h")) {
      unit = 3600 * kSecond;
      s.remove_prefix(1);
    } else
      return bad("missing unit (us, ms, s, m, h)");
    total += static_cast<long double>(n) * unit;
  }
  if (!std::isfinite(static_cast<double>(total)) || total > 1e18L) return bad("too large");
  return static_cast<Nanos>(std::llround(static_cast<double>(total)));
}

Result<double> ParsePositiveNumber(std::string_view text) {
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v <= 0) {
    return Error::InvalidArgument(fmt::format("invalid number \"{}\": expected a positive number", text));
  }
  return v;
}

Result<int64_t> ParseSize(std::string_view text) {
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  std::string unit = end != nullptr ? std::string(end) : "";
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double mult = 0;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "KB" || unit == "KIB" || unit == "K")
    mult = 1024.0;
  else if (unit == "MB" || unit == "MIB" || unit == "M")
    mult = 1024.0 * 1024;
  else if (unit == "GB" || unit == "GIB" || unit == "G")
    mult = 1024.0 * 1024 * 1024;
  if (s.empty() || end == s.c_str() || mult == 0 || !std::isfinite(v) || v < 0 || v * mult > 9e18) {
    return Error::InvalidArgument(fmt::format("invalid size \"{}\": expected bytes such as 512, 64KB or 16MB", text));
  }
  return static_cast<int64_t>(v * mult);
}

Result<double> ParseProbability(std::string_view text) {
  std::string s(text);
  bool percent = !s.empty() && s.back() == '%';
  if (percent) s.pop_back();
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v)) {
    return Error::InvalidArgument(fmt::format("invalid probability \"{}\": expected 0..1 or a percentage", text));
  }
  if (percent) v /= 100;
  if (v < 0 || v > 1) {
    return Error::InvalidArgument(
        fmt::format("invalid probability \"{}\": must be between 0 and 1 (or 0% and 100%)", text));
  }
  return v;
}

std::string FormatDuration(Nanos d) {
  double v = static_cast<double>(d);
  if (d < kMilli) return fmt::format("{:.0f}us", v / kMicro);
  if (d < kSecond) return fmt::format("{:.2f}ms", v / kMilli);
  return fmt::format("{:.2f}s", v / kSecond);
}

Result<int64_t> ParseBytes(std::string_view text) {
  double v = 0;
  size_t n = ReadNumber(text, &v);
  std::string_view unit = text.substr(n);
  double scale = 0;
  if (unit.empty() || unit == "B")
    scale = 1;
  else if (unit == "KB" || unit == "KiB" || unit == "kB")
    scale = 1024;
  else if (unit == "MB" || unit == "MiB")
    scale = 1024.0 * 1024;
  else if (unit == "GB" || unit == "GiB")
    scale = 1024.0 * 1024 * 1024;
  if (n == 0 || scale == 0) {
    return Error::InvalidArgument(fmt::format("\"{}\" is not a size (e.g. 100KB, 1.5MB, 512B)", text));
  }
  return static_cast<int64_t>(std::llround(v * scale));
}

std::string FormatBytes(double b) {
  if (b < 1024) return fmt::format("{:.0f}B", b);
  if (b < 1024.0 * 1024) return fmt::format("{:.2f}KB", b / 1024);
  if (b < 1024.0 * 1024 * 1024) return fmt::format("{:.2f}MB", b / (1024.0 * 1024));
  return fmt::format("{:.2f}GB", b / (1024.0 * 1024 * 1024));
}

}  // namespace loadcell
