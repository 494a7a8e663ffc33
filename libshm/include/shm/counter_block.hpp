#pragma once
// CounterBlock: a daemon's named u64 counters, gauges and latency histograms in their own small shm
// segment ("<instance>-<daemon>-stats"), so `peakctl stats` reads every daemon's numbers without asking
// it. Fixed capacity, names <= 47 characters, an entry is registered on first use and never removed.
// counter()/histogram() take the registration path (hash probe, a few compares): look names up once and
// keep the reference; increments are lock-free (relaxed fetch_add).
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shm/histogram.hpp"
#include "shm/shm_error.hpp"

namespace peaknet::shm {

class CounterBlockImpl;

enum class MetricKind : uint32_t { kCounter = 1, kGauge = 2, kHistogram = 3 };

/// One entry as read by snapshot_entries().
struct MetricSnapshot {
  std::string name;
  MetricKind kind = MetricKind::kCounter;
  uint64_t value = 0;                            ///< counter/gauge value; histogram: count
  uint64_t p50 = 0, p99 = 0, max = 0, mean = 0;  ///< histograms only
};

class CounterBlock {
 public:
  static constexpr size_t kMaxNameLength = 47;
  static constexpr uint32_t kDefaultCapacity = 256;  ///< counters + histograms one block holds

  /// Attach when compatible (a restarted daemon keeps counting), create otherwise; an incompatible
  /// segment is replaced when its creator is dead, else ShmError.
  static CounterBlock open_or_create(const std::string& name, uint32_t capacity = kDefaultCapacity,
                                     bool group_shareable = false);
  /// Read side (peakctl); must exist; ShmError on bad magic/version/size.
  static CounterBlock attach(const std::string& name);

  CounterBlock(CounterBlock&&) noexcept;
  CounterBlock& operator=(CounterBlock&&) noexcept;
  ~CounterBlock();

  /// Stable reference for the life of this CounterBlock. ShmError when the name is empty or too long,
  /// registered with another kind, or the block is full.
  std::atomic<uint64_t>& counter(std::string_view name);
  std::atomic<uint64_t>& gauge(std::string_view name);
  Histogram& histogram(std::string_view name);

  std::vector<std::pair<std::string, uint64_t>> snapshot() const;  ///< counters and gauges
  std::vector<MetricSnapshot> snapshot_entries() const;            ///< everything, with kinds
  uint32_t capacity() const;
  const std::string& name() const;
  int32_t creator_pid() const;

  static void unlink(const std::string& name);

 private:
  explicit CounterBlock(std::unique_ptr<CounterBlockImpl> impl);
  std::unique_ptr<CounterBlockImpl> impl_;
};

}  // namespace peaknet::shm
