#pragma once
// Pacing of the finite sources (synthetic rate_hz, replay speed).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "common/progress_monitor.hpp"
#include "shm/event_clock.hpp"

namespace peaknet::ingestd {

/// Sleeps until `deadline_ns` (steady) in short steps; false when `stop` became true meanwhile.
/// The stage is idle meanwhile (pacing a source is waiting for input, not a stall).
inline bool sleep_until_ns(uint64_t deadline_ns, const std::atomic<bool>& stop, common::Stage& stage) {
  while (!stop.load()) {
    stage.idle("pacing the source");
    const uint64_t now = shm::steady_ns();
    if (now >= deadline_ns) return true;
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<uint64_t>(deadline_ns - now, 50'000'000)));
  }
  return false;
}

}  // namespace peaknet::ingestd
