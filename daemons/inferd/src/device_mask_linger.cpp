#include "device_mask_linger.hpp"

#include <thread>

namespace peaknet::inferd {

LingerResult wait_for_q2_readers(const shm::Ring& q2, std::chrono::milliseconds limit, const std::atomic<bool>& stop,
                                 const std::function<void()>& beat) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  LingerResult r;
  for (;;) {
    r.left_in_q2 = q2.counters().occupancy;
    if (r.left_in_q2 == 0) return r;
    if (stop.load()) {
      r.stopped = true;
      return r;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      r.timed_out = true;
      return r;
    }
    if (beat) beat();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace peaknet::inferd
