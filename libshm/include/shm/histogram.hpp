#pragma once
// Latency histogram living in shared memory: 64 log2 buckets (bucket b counts values v with
// floor(log2(v)) == b - 1; bucket 0 counts zeros), lock-free record(), readable by any process.
#include <atomic>
#include <cstdint>
#include <type_traits>

namespace peaknet::shm {

/// A shm type: fixed size, no pointers. Obtained from CounterBlock::histogram(); never constructed by users.
struct Histogram {
  static constexpr int kBuckets = 65;
  std::atomic<uint64_t> count;
  std::atomic<uint64_t> sum;
  std::atomic<uint64_t> max;
  std::atomic<uint64_t> buckets[kBuckets];

  void record(uint64_t value);
  /// p in [0,100]: upper bound of the bucket holding the p-th percentile (clamped to max); 0 when empty.
  uint64_t percentile(double p) const;
  uint64_t mean() const;
};
static_assert(std::is_standard_layout_v<Histogram>);
static_assert(std::atomic<uint64_t>::is_always_lock_free);

}  // namespace peaknet::shm
