// Execution segments, with k6's semantics: a test split across generators that never talk
// to each other. The interval [0, 1] is cut by a sequence of fractions (0, 1/4, 1/2, 1:
// three segments); each generator runs one segment and computes its share of every count
// (VUs, iterations, arrivals, data rows) from the sequence alone. Shares of every segment
// add up exactly to the whole, remainders included.
//
// The shares are striped, not cut in blocks: over every LCD consecutive items (LCD: the
// least common denominator of the segments' lengths), a segment of length n/LCD owns n
// positions spread as evenly as possible, larger segments choosing first. Item i belongs
// to the segment that owns position i % LCD. Scale(v) counts the owned items among the
// first v, so it only ever grows with v: a ramp of 0 -> 7 VUs gives each generator its
// VUs one at a time, and at every instant the generators' VUs add up to the whole test's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace loadcell {

struct Fraction {
  int64_t num = 0, den = 1;      // reduced, den > 0
  std::string ToString() const;  // "1/4", "0", "1"
  bool operator==(const Fraction&) const = default;
};

// "1/4", "0.25", "25%", "0", "1".
Result<Fraction> ParseFraction(std::string_view text);

class ExecutionSegment {
 public:
  // The whole test (no segmentation).
  ExecutionSegment() = default;

  // Segment `index` (0-based) of the sequence `bounds` (0 = b0 < b1 < ... < bn = 1).
  static Result<ExecutionSegment> Of(std::vector<Fraction> bounds, size_t index);

  // The command line's forms, `segment` and `sequence` as given:
  //   --segment K/N                          the K-th (1-based) of N equal parts
  //   --segment FROM:TO [--segments SEQ]     k6's form; without SEQ the sequence is
  //                                          0, FROM, TO, 1 (empty parts left out)
  //   --segments SEQ --segment-index I       the I-th (1-based) segment of SEQ
  // Errors name the argument that is wrong.
  static Result<ExecutionSegment> FromArgs(const std::string& segment, const std::string& sequence, int index);

  bool whole() const { return lcd_ == 1; }
  Fraction from() const { return bounds_[index_]; }
  Fraction to() const { return bounds_[index_ + 1]; }
  size_t index() const { return index_; }              // 0-based, in the sequence
  size_t count() const { return bounds_.size() - 1; }  // segments in the sequence
  const std::vector<Fraction>& bounds() const { return bounds_; }

  // This segment's share of `value` items (VUs, iterations, rows).
  int64_t Scale(int64_t value) const;
  // The global number of this segment's k-th item (both 0-based).
  int64_t GlobalIndex(int64_t k) const;
  bool Owns(int64_t global_index) const;

  std::string ToString() const;        // "1/4:1/2" (k6's form); "0:1" for the whole test
  std::string SequenceString() const;  // "0,1/4,1/2,1"

 private:
  std::vector<Fraction> bounds_{{0, 1}, {1, 1}};
  size_t index_ = 0;
  int64_t lcd_ = 1;
  std::vector<int64_t> positions_{0};  // owned positions in [0, lcd_), ascending
};

}  // namespace loadcell
