#pragma once
// The time base of every t_*_ns field in the rings (EventHeader, ResultHeader): CLOCK_REALTIME in ns,
// so latencies can be compared across daemons (and hosts with synchronised clocks); and the one steady
// clock helper for in-process durations.
#include <chrono>
#include <cstdint>
#include <ctime>

namespace peaknet::shm {

inline uint64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

/// std::chrono::steady_clock in ns: durations, deadlines and "last seen" stamps within a process
/// (not the rings' time base).
inline uint64_t steady_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

}  // namespace peaknet::shm
