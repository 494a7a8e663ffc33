#pragma once
// The CounterBlock segment: header, then `capacity` fixed entries found by hashing the name (linear
// probing), so two processes registering the same name concurrently end on the same entry.
// Changing width, order or meaning of a field needs kCounterLayoutVersion bumped (layout test pins it).
#include <atomic>
#include <cstdint>
#include <type_traits>

#include "shm/histogram.hpp"

namespace peaknet::shm::layout {

inline constexpr uint64_t kCounterMagic = 0x31534E544E434B50ull;  // "PKCNTNS1" little endian
inline constexpr uint32_t kCounterLayoutVersion = 1;

struct CounterHeader {
  std::atomic<uint64_t> magic;  ///< stored last by the creator
  uint32_t layout_version;
  uint32_t header_bytes;
  int32_t owner_pid;  ///< latest opener with write access (the daemon)
  uint32_t capacity;
  uint64_t owner_start_time;
  uint64_t created_realtime_ns;
  uint32_t entry_bytes;
  uint32_t reserved0;
  uint64_t total_bytes;
  std::atomic<uint32_t> registered;  ///< entries in use
  uint8_t reserved[4];
  uint8_t reserved1[192];
};
static_assert(sizeof(CounterHeader) == 256);

/// state: 0 empty, 1 being registered (name not complete), 2 ready. kind: MetricKind.
struct CounterEntry {
  std::atomic<uint32_t> state;
  uint32_t kind;
  char name[48];  ///< NUL terminated, <= 47 characters
  uint8_t reserved[8];
  alignas(64) std::atomic<uint64_t> value;  ///< counter / gauge
  uint8_t reserved1[56];
  Histogram histogram;  ///< used when kind == histogram
};
inline constexpr uint32_t kEntryEmpty = 0, kEntryRegistering = 1, kEntryReady = 2;
static_assert(std::is_standard_layout_v<CounterEntry>);
static_assert(sizeof(CounterEntry) % 64 == 0);

}  // namespace peaknet::shm::layout
