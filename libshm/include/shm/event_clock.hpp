#pragma once
// The time base of every t_*_ns field in the rings (EventHeader, ResultHeader): CLOCK_REALTIME in ns,
// so latencies can be compared across daemons (and hosts with synchronised clocks).
#include <cstdint>
#include <ctime>

namespace peaknet::shm {

inline uint64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

}  // namespace peaknet::shm
