#pragma once
// A CUDA inferd's device masks live in its own GPU memory (DeviceMaskPool): they die with the process.
// So at the end of a drain, before its backend (and the pool) goes, inferd waits until the results it
// published have been read off Q2 (writerd reads a record's mask before releasing its slot), bounded by
// inferd.device_mask_linger_s; what is still queued then is said in the log (writerd will write those
// hits without their mask, counted masks_missing).
#include <atomic>
#include <chrono>
#include <functional>

#include "shm/ring.hpp"

namespace peaknet::inferd {

struct LingerResult {
  uint64_t left_in_q2 = 0;  ///< results still READY or CLAIMED in Q2 when the wait ended
  bool timed_out = false;
  bool stopped = false;  ///< `stop` was set (stop now): no more waiting
};

/// Waits until Q2 holds no result (occupancy 0), `limit` passed or `stop` is set; calls `beat` every
/// ~20 ms so the stall watchdog and systemd's see a daemon that is waiting on purpose.
LingerResult wait_for_q2_readers(const shm::Ring& q2, std::chrono::milliseconds limit, const std::atomic<bool>& stop,
                                 const std::function<void()>& beat = {});

}  // namespace peaknet::inferd
