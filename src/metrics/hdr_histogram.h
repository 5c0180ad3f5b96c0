// A high-dynamic-range histogram with HdrHistogram's bucket layout, so that values,
// percentiles and the V2 encoding agree with every other HdrHistogram implementation.
//
// Lossless and mergeable: Add() of two histograms with the same layout equals recording
// the union of their values, which is what lets per-thread shards, per-second intervals
// and whole machines be combined exactly.
//
// Not thread-safe: one writer (a worker's shard) at a time; copies cross threads.
#pragma once

#include <cstdint>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace loadcell {

// Zeroed memory for histogram counts. A worker starts fresh per-second histograms every
// second; allocating and zero-filling ~190 KB for each of them on the worker (a hundred
// page faults) showed up as a 1 ms stall in the open model's send lag at p99.9. Freed
// arrays are zeroed by whoever frees them (the coordinator, for per-second pieces) and
// kept for the next histogram, a bounded number of them; new ones come from calloc,
// which leaves fresh pages untouched until a count lands in them.
void* AllocateCounts(size_t bytes);
void FreeCounts(void* p, size_t bytes);

template <class T>
struct CountsAllocator {
  using value_type = T;
  CountsAllocator() = default;
  template <class U>
  CountsAllocator(const CountsAllocator<U>&) {}  // NOLINT: rebinding, as allocators do
  T* allocate(size_t n) { return static_cast<T*>(AllocateCounts(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { FreeCounts(p, n * sizeof(T)); }
  template <class U>
  void construct(U*) noexcept {}  // value-initialised: the memory is zeroed already
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  bool operator==(const CountsAllocator&) const { return true; }
};

class HdrHistogram {
 public:
  // Values are integers in [lowest, highest] at `significant_digits` (1..5) precision.
  // Loadcell records microseconds from 1 us to 1 h at 3 digits by default.
  HdrHistogram(int64_t lowest = 1, int64_t highest = 3'600'000'000, int significant_digits = 3);

  // Values outside [0, highest] are clamped to the range and counted in clamped(), so
  // counts stay exact even for absurd latencies.
  void Record(int64_t value) { RecordN(value, 1); }
  void RecordN(int64_t value, int64_t count);

  // Adds every count of `other`; layouts must match (same lowest/highest/digits).
  Status Add(const HdrHistogram& other);
  void Reset();
  // The V2 encoding keeps buckets, not the exact extremes: a decoder that also has them
  // (a results file stores both) puts them back so that min() and max() stay exact.
  void RestoreExtremes(int64_t min, int64_t max) {
    if (total_count_ == 0) return;
    min_ = min;
    max_ = max;
  }

  int64_t total_count() const { return total_count_; }
  int64_t clamped() const { return clamped_; }
  bool empty() const { return total_count_ == 0; }
  // Exact smallest/largest values recorded (0 when empty).
  int64_t min() const { return total_count_ ? min_ : 0; }
  int64_t max() const { return total_count_ ? max_ : 0; }
  double mean() const;
  double stddev() const;
  // HdrHistogram's definition (Java, JS): the highest value equivalent to the first value
  // at which the cumulative count reaches ceil(p/100 * total), at least 1.
  int64_t ValueAtPercentile(double percentile) const;

  int64_t lowest() const { return lowest_; }
  int64_t highest() const { return highest_; }
  int significant_digits() const { return digits_; }

  bool ValuesAreEquivalent(int64_t a, int64_t b) const { return LowestEquivalent(a) == LowestEquivalent(b); }
  int64_t LowestEquivalent(int64_t v) const;
  int64_t HighestEquivalent(int64_t v) const { return NextNonEquivalent(v) - 1; }
  int64_t MedianEquivalent(int64_t v) const { return LowestEquivalent(v) + (EquivalentRange(v) >> 1); }

  // Iteration over non-empty buckets: callback(value_lowest_equivalent, count).
  template <typename F>
  void ForEachNonZero(F&& f) const {
    for (size_t i = 0; i < counts_.size(); ++i) {
      if (counts_[i] != 0) f(ValueFromIndex(static_cast<int>(i)), counts_[i]);
    }
  }

  // Raw access for the codec.
  size_t counts_length() const { return counts_.size(); }
  int64_t count_at_index(size_t i) const { return counts_[i]; }
  int CountsIndexFor(int64_t value) const;
  int64_t ValueFromIndex(int index) const;

 private:
  int BucketIndex(int64_t v) const;
  int SubBucketIndex(int64_t v, int bucket) const;
  int CountsIndex(int bucket, int sub_bucket) const;
  int64_t EquivalentRange(int64_t v) const;
  int64_t NextNonEquivalent(int64_t v) const { return LowestEquivalent(v) + EquivalentRange(v); }

  int64_t lowest_;
  int64_t highest_;
  int digits_;
  int unit_magnitude_ = 0;
  int sub_bucket_half_count_magnitude_ = 0;
  int sub_bucket_count_ = 0;
  int sub_bucket_half_count_ = 0;
  int64_t sub_bucket_mask_ = 0;
  int bucket_count_ = 0;

  std::vector<int64_t, CountsAllocator<int64_t>> counts_;
  int64_t total_count_ = 0;
  int64_t clamped_ = 0;
  int64_t min_ = INT64_MAX;
  int64_t max_ = 0;
};

}  // namespace loadcell
