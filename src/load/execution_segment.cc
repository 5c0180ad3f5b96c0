#include "load/execution_segment.h"

#include <algorithm>
#include <charconv>
#include <numeric>

#include <fmt/format.h>

namespace loadcell {
namespace {

// The striping walks LCD positions once; beyond this the sequence is not a sensible split
// of a load test (a million generators) and the walk would cost real time.
constexpr int64_t kMaxLcd = 1'000'000;

Fraction Reduced(int64_t num, int64_t den) {
  int64_t g = std::gcd(num, den);
  if (g == 0) g = 1;
  return {num / g, den / g};
}

bool Less(Fraction a, Fraction b) {
  return static_cast<__int128>(a.num) * b.den < static_cast<__int128>(b.num) * a.den;
}

Result<int64_t> ParseCount(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0 || s.empty()) {
    return Error::InvalidArgument(fmt::format("`{}` is not a whole number", s));
  }
  return v;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

Result<std::vector<Fraction>> ParseSequence(std::string_view text) {
  std::vector<Fraction> bounds;
  for (std::string_view part : Split(text, ',')) {
    auto f = ParseFraction(part);
    if (!f.ok()) return f.error();
    bounds.push_back(*f);
  }
  return bounds;
}

}  // namespace

std::string Fraction::ToString() const { return den == 1 ? fmt::format("{}", num) : fmt::format("{}/{}", num, den); }

Result<Fraction> ParseFraction(std::string_view text) {
  std::string_view s = text;
  auto bad = [&] { return Error::InvalidArgument(fmt::format("`{}` is not a fraction (1/4, 0.25 or 25%)", text)); };
  if (s.ends_with('%')) {
    auto n = ParseCount(s.substr(0, s.size() - 1));
    if (!n.ok()) return bad();
    return Reduced(*n, 100);
  }
  if (auto slash = s.find('/'); slash != std::string_view::npos) {
    auto n = ParseCount(s.substr(0, slash));
    auto d = ParseCount(s.substr(slash + 1));
    if (!n.ok() || !d.ok() || *d == 0) return bad();
    return Reduced(*n, *d);
  }
  if (auto dot = s.find('.'); dot != std::string_view::npos) {
    std::string_view frac = s.substr(dot + 1);
    if (frac.empty() || frac.size() > 9) return bad();
    auto whole = dot == 0 ? Result<int64_t>(0) : ParseCount(s.substr(0, dot));
    auto f = ParseCount(frac);
    if (!whole.ok() || !f.ok()) return bad();
    int64_t den = 1;
    for (size_t i = 0; i < frac.size(); ++i) den *= 10;
    return Reduced(*whole * den + *f, den);
  }
  auto n = ParseCount(s);
  if (!n.ok()) return bad();
  return Fraction{*n, 1};
}

Result<ExecutionSegment> ExecutionSegment::Of(std::vector<Fraction> bounds, size_t index) {
  if (bounds.size() < 2 || bounds.front() != Fraction{0, 1} || bounds.back() != Fraction{1, 1}) {
    return Error::InvalidArgument("a sequence starts at 0 and ends at 1 (e.g. 0,1/4,1/2,1)");
  }
  for (size_t i = 1; i < bounds.size(); ++i) {
    if (!Less(bounds[i - 1], bounds[i])) {
      return Error::InvalidArgument(
          fmt::format("the sequence must grow: {} is not above {}", bounds[i].ToString(), bounds[i - 1].ToString()));
    }
  }
  if (index + 1 >= bounds.size()) {
    return Error::InvalidArgument(
        fmt::format("there is no segment {} in a sequence of {}", index + 1, bounds.size() - 1));
  }
  ExecutionSegment s;
  s.bounds_ = std::move(bounds);
  s.index_ = index;
  // Lengths over their least common denominator.
  const size_t n = s.bounds_.size() - 1;
  std::vector<Fraction> lengths(n);
  int64_t lcd = 1;
  for (size_t i = 0; i < n; ++i) {
    const Fraction a = s.bounds_[i], b = s.bounds_[i + 1];
    __int128 num = static_cast<__int128>(b.num) * a.den - static_cast<__int128>(a.num) * b.den;
    __int128 den = static_cast<__int128>(a.den) * b.den;
    if (den > kMaxLcd * static_cast<__int128>(kMaxLcd))
      return Error::InvalidArgument("the sequence's fractions are too fine");
    lengths[i] = Reduced(static_cast<int64_t>(num), static_cast<int64_t>(den));
    lcd = std::lcm(lcd, lengths[i].den);
    if (lcd > kMaxLcd) {
      return Error::InvalidArgument(
          fmt::format("the sequence's fractions are too fine (their common denominator "
                      "exceeds {})",
                      kMaxLcd));
    }
  }
  s.lcd_ = lcd;
  std::vector<int64_t> share(n);  // positions out of every lcd
  for (size_t i = 0; i < n; ++i) share[i] = lengths[i].num * (lcd / lengths[i].den);
  // Larger segments choose first (stable among equals), so that they are not left with
  // positions next to each other at the end of the cycle.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return share[a] > share[b]; });
  // Position p goes to the first segment (in that order) that is due: one whose taken
  // count is at most p * share / lcd, i.e. that would otherwise fall behind its length.
  // Some segment is always due (the shares add up to lcd), and none overshoots its share.
  std::vector<int64_t> taken(n, 0);
  s.positions_.clear();
  for (int64_t p = 0; p < lcd; ++p) {
    for (size_t seg : order) {
      if (static_cast<__int128>(p) * share[seg] >= static_cast<__int128>(taken[seg]) * lcd) {
        ++taken[seg];
        if (seg == index) s.positions_.push_back(p);
        break;
      }
    }
  }
  return s;
}

Result<ExecutionSegment> ExecutionSegment::FromArgs(const std::string& segment, const std::string& sequence,
                                                    int index) {
  if (segment.empty() && sequence.empty()) {
    if (index > 0) return Error::InvalidArgument("--segment-index: needs --segments (the sequence it indexes)");
    return ExecutionSegment();
  }
  if (!segment.empty() && index > 0) {
    return Error::InvalidArgument("--segment-index: give either --segment or --segments with --segment-index");
  }
  std::vector<Fraction> bounds;
  if (!sequence.empty()) {
    auto b = ParseSequence(sequence);
    if (!b.ok()) return Error::InvalidArgument("--segments: " + b.error().message);
    bounds = std::move(b).value();
  }
  if (segment.empty()) {
    if (index <= 0) return Error::InvalidArgument("--segments: give --segment-index too (1 for the first segment)");
    if (auto valid = Of(bounds, 0); !valid.ok()) return Error::InvalidArgument("--segments: " + valid.error().message);
    auto s = Of(bounds, static_cast<size_t>(index - 1));
    if (!s.ok()) return Error::InvalidArgument("--segment-index: " + s.error().message);
    return s;
  }
  if (auto colon = segment.find(':'); colon != std::string::npos) {
    auto from = ParseFraction(std::string_view(segment).substr(0, colon));
    auto to = ParseFraction(std::string_view(segment).substr(colon + 1));
    if (!from.ok()) return Error::InvalidArgument("--segment: " + from.error().message);
    if (!to.ok()) return Error::InvalidArgument("--segment: " + to.error().message);
    if (!Less(*from, *to) || Less(Fraction{1, 1}, *to)) {
      return Error::InvalidArgument(fmt::format("--segment {}: need 0 <= FROM < TO <= 1", segment));
    }
    if (bounds.empty()) {
      if (from->num != 0) bounds.push_back({0, 1});
      bounds.push_back(*from);
      bounds.push_back(*to);
      if (*to != Fraction{1, 1}) bounds.push_back({1, 1});
    }
    for (size_t i = 0; i + 1 < bounds.size(); ++i) {
      if (bounds[i] == *from && bounds[i + 1] == *to) {
        auto s = Of(bounds, i);
        if (!s.ok()) return Error::InvalidArgument("--segments: " + s.error().message);
        return s;
      }
    }
    return Error::InvalidArgument(fmt::format("--segment {}: not a segment of --segments {}", segment, sequence));
  }
  if (auto slash = segment.find('/'); slash != std::string::npos && sequence.empty()) {
    auto k = ParseCount(std::string_view(segment).substr(0, slash));
    auto n = ParseCount(std::string_view(segment).substr(slash + 1));
    if (!k.ok() || !n.ok() || *n < 1 || *k < 1 || *k > *n) {
      return Error::InvalidArgument(
          fmt::format("--segment {}: expected K/N with 1 <= K <= N (the K-th of N "
                      "generators), or FROM:TO",
                      segment));
    }
    if (*n > kMaxLcd)
      return Error::InvalidArgument(fmt::format("--segment {}: at most {} generators", segment, kMaxLcd));
    for (int64_t i = 0; i <= *n; ++i) bounds.push_back(Reduced(i, *n));
    return Of(bounds, static_cast<size_t>(*k - 1));
  }
  return Error::InvalidArgument(fmt::format("--segment {}: expected {}", segment,
                                            sequence.empty()
                                                ? "K/N (the K-th of N generators) or FROM:TO"
                                                : "FROM:TO with --segments (or --segments with --segment-index)"));
}

int64_t ExecutionSegment::Scale(int64_t value) const {
  const auto per_cycle = static_cast<int64_t>(positions_.size());
  int64_t r = value % lcd_;
  return value / lcd_ * per_cycle +
         static_cast<int64_t>(std::lower_bound(positions_.begin(), positions_.end(), r) - positions_.begin());
}

int64_t ExecutionSegment::GlobalIndex(int64_t k) const {
  const auto per_cycle = static_cast<int64_t>(positions_.size());
  return k / per_cycle * lcd_ + positions_[static_cast<size_t>(k % per_cycle)];
}

bool ExecutionSegment::Owns(int64_t global_index) const {
  return std::binary_search(positions_.begin(), positions_.end(), global_index % lcd_);
}

std::string ExecutionSegment::ToString() const { return from().ToString() + ":" + to().ToString(); }

std::string ExecutionSegment::SequenceString() const {
  std::string out;
  for (const Fraction& f : bounds_) out += (out.empty() ? "" : ",") + f.ToString();
  return out;
}

}  // namespace loadcell
