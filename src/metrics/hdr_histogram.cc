#include "metrics/hdr_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include <fmt/format.h>

namespace loadcell {

namespace {

// Freed counts arrays of one size (the default layout's: nearly every histogram), zeroed.
struct CountsPool {
  std::mutex mu;
  size_t bytes = 0;
  std::vector<void*> free;
};
constexpr size_t kPooledArrays = 32;  // at most ~6 MB kept at the default layout

CountsPool& Pool() {
  static auto* pool = new CountsPool;  // never destroyed: histograms may outlive statics
  return *pool;
}

}  // namespace

void* AllocateCounts(size_t bytes) {
  CountsPool& pool = Pool();
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    if (bytes == pool.bytes && !pool.free.empty()) {
      void* p = pool.free.back();
      pool.free.pop_back();
      return p;
    }
  }
  void* p = std::calloc(bytes, 1);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void FreeCounts(void* p, size_t bytes) {
  CountsPool& pool = Pool();
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    if (pool.bytes == 0) pool.bytes = bytes;
    if (bytes != pool.bytes || pool.free.size() >= kPooledArrays) {
      std::free(p);
      return;
    }
  }
  std::memset(p, 0, bytes);
  std::lock_guard<std::mutex> lock(pool.mu);
  pool.free.push_back(p);
}

HdrHistogram::HdrHistogram(int64_t lowest, int64_t highest, int significant_digits)
    : lowest_(std::max<int64_t>(lowest, 1)), highest_(highest), digits_(std::clamp(significant_digits, 1, 5)) {
  // The layout below follows HdrHistogram exactly (hdr_calculate_bucket_config) so that
  // encoded histograms decode to the same buckets elsewhere.
  int64_t largest_single_unit = 2 * static_cast<int64_t>(std::pow(10, digits_));
  unit_magnitude_ = static_cast<int>(std::floor(std::log2(static_cast<double>(lowest_))));
  int sub_bucket_count_magnitude = static_cast<int>(std::ceil(std::log2(static_cast<double>(largest_single_unit))));
  sub_bucket_half_count_magnitude_ = std::max(sub_bucket_count_magnitude, 1) - 1;
  sub_bucket_count_ = 1 << (sub_bucket_half_count_magnitude_ + 1);
  sub_bucket_half_count_ = sub_bucket_count_ / 2;
  sub_bucket_mask_ = static_cast<int64_t>(sub_bucket_count_ - 1) << unit_magnitude_;

  int64_t smallest_untrackable = static_cast<int64_t>(sub_bucket_count_) << unit_magnitude_;
  int buckets = 1;
  while (smallest_untrackable <= highest_) {
    if (smallest_untrackable > INT64_MAX / 2) {
      ++buckets;
      break;
    }
    smallest_untrackable <<= 1;
    ++buckets;
  }
  bucket_count_ = buckets;
  counts_ = decltype(counts_)(static_cast<size_t>((bucket_count_ + 1) * sub_bucket_half_count_));
}

int HdrHistogram::BucketIndex(int64_t v) const {
  int pow2ceiling = 64 - std::countl_zero(static_cast<uint64_t>(v | sub_bucket_mask_));
  return pow2ceiling - unit_magnitude_ - (sub_bucket_half_count_magnitude_ + 1);
}

int HdrHistogram::SubBucketIndex(int64_t v, int bucket) const {
  return static_cast<int>(v >> (bucket + unit_magnitude_));
}

int HdrHistogram::CountsIndex(int bucket, int sub_bucket) const {
  int bucket_base = (bucket + 1) << sub_bucket_half_count_magnitude_;
  return bucket_base + (sub_bucket - sub_bucket_half_count_);
}

int HdrHistogram::CountsIndexFor(int64_t value) const {
  int b = BucketIndex(value);
  return CountsIndex(b, SubBucketIndex(value, b));
}

int64_t HdrHistogram::ValueFromIndex(int index) const {
  int bucket = (index >> sub_bucket_half_count_magnitude_) - 1;
  int sub_bucket = (index & (sub_bucket_half_count_ - 1)) + sub_bucket_half_count_;
  if (bucket < 0) {
    sub_bucket -= sub_bucket_half_count_;
    bucket = 0;
  }
  return static_cast<int64_t>(sub_bucket) << (bucket + unit_magnitude_);
}

int64_t HdrHistogram::EquivalentRange(int64_t v) const {
  int b = BucketIndex(v);
  int sb = SubBucketIndex(v, b);
  int adjusted = (sb >= sub_bucket_count_) ? b + 1 : b;
  return int64_t{1} << (unit_magnitude_ + adjusted);
}

int64_t HdrHistogram::LowestEquivalent(int64_t v) const {
  int b = BucketIndex(v);
  int sb = SubBucketIndex(v, b);
  return static_cast<int64_t>(sb) << (b + unit_magnitude_);
}

void HdrHistogram::RecordN(int64_t value, int64_t count) {
  if (value < 0 || value > highest_) {
    clamped_ += count;
    value = std::clamp<int64_t>(value, 0, highest_);
  }
  counts_[static_cast<size_t>(CountsIndexFor(value))] += count;
  total_count_ += count;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

Status HdrHistogram::Add(const HdrHistogram& other) {
  if (other.lowest_ != lowest_ || other.highest_ != highest_ || other.digits_ != digits_) {
    return Error::InvalidArgument(fmt::format("histogram layouts differ ({}..{}@{} vs {}..{}@{})", lowest_, highest_,
                                              digits_, other.lowest_, other.highest_, other.digits_));
  }
  if (other.total_count_ == 0) return Status::Ok();
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_count_ += other.total_count_;
  clamped_ += other.clamped_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  return Status::Ok();
}

void HdrHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_count_ = 0;
  clamped_ = 0;
  min_ = INT64_MAX;
  max_ = 0;
}

double HdrHistogram::mean() const {
  if (total_count_ == 0) return 0;
  double sum = 0;
  ForEachNonZero(
      [&](int64_t v, int64_t c) { sum += static_cast<double>(MedianEquivalent(v)) * static_cast<double>(c); });
  return sum / static_cast<double>(total_count_);
}

double HdrHistogram::stddev() const {
  if (total_count_ == 0) return 0;
  double m = mean();
  double geometric_dev_total = 0;
  ForEachNonZero([&](int64_t v, int64_t c) {
    double dev = static_cast<double>(MedianEquivalent(v)) - m;
    geometric_dev_total += dev * dev * static_cast<double>(c);
  });
  return std::sqrt(geometric_dev_total / static_cast<double>(total_count_));
}

int64_t HdrHistogram::ValueAtPercentile(double percentile) const {
  if (total_count_ == 0) return 0;
  double requested = std::min(percentile, 100.0);
  // Round the count up so the value covering the requested share is included, minus one
  // ulp so floating-point noise cannot skip a count (HdrHistogram Java/JS, 2.1.10+).
  double fp_count = (requested / 100.0) * static_cast<double>(total_count_);
  double ulp = std::nextafter(fp_count, INFINITY) - fp_count;
  auto count_at = static_cast<int64_t>(std::ceil(fp_count - ulp));
  count_at = std::max<int64_t>(count_at, 1);
  int64_t running = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    running += counts_[i];
    if (running >= count_at) {
      int64_t v = ValueFromIndex(static_cast<int>(i));
      return percentile == 0.0 ? LowestEquivalent(v) : HighestEquivalent(v);
    }
  }
  return HighestEquivalent(max_);
}

}  // namespace loadcell
