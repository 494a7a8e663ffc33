#include "shm/histogram.hpp"

#include <bit>

namespace peaknet::shm {

void Histogram::record(uint64_t value) {
  const int b = value == 0 ? 0 : 64 - std::countl_zero(value);  // 1 -> 1, 2..3 -> 2, 4..7 -> 3, ...
  buckets[b].fetch_add(1, std::memory_order_relaxed);
  count.fetch_add(1, std::memory_order_relaxed);
  sum.fetch_add(value, std::memory_order_relaxed);
  uint64_t cur = max.load(std::memory_order_relaxed);
  while (value > cur && !max.compare_exchange_weak(cur, value, std::memory_order_relaxed)) {}
}

uint64_t Histogram::percentile(double p) const {
  uint64_t counts[kBuckets];
  uint64_t total = 0;
  for (int b = 0; b < kBuckets; ++b) total += counts[b] = buckets[b].load(std::memory_order_relaxed);
  if (total == 0) return 0;
  if (p < 0) p = 0;
  if (p > 100) p = 100;
  uint64_t rank = static_cast<uint64_t>(p / 100.0 * static_cast<double>(total) + 0.5);
  if (rank == 0) rank = 1;
  const uint64_t maximum = max.load(std::memory_order_relaxed);
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts[b];
    if (seen >= rank) {
      if (b == 0) return 0;
      const uint64_t upper = b >= 64 ? ~uint64_t{0} : (uint64_t{1} << b) - 1;  // largest value in bucket b
      return upper < maximum ? upper : maximum;
    }
  }
  return maximum;
}

uint64_t Histogram::mean() const {
  const uint64_t n = count.load(std::memory_order_relaxed);
  return n == 0 ? 0 : sum.load(std::memory_order_relaxed) / n;
}

}  // namespace peaknet::shm
