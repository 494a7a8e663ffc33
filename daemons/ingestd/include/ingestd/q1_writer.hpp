#pragma once
// Q1Writer: ingestd's producer side of Q1. Creates (or re-attaches to) the ring, applies the overflow
// policy, and lets the policy change at run time (`config set q1.policy`): libshm fixes the policy per
// handle, so a change opens one more producer handle; all handles finish together at the end.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/progress_monitor.hpp"
#include "shm/ring.hpp"

namespace peaknet::ingestd {

/// A slot being filled plus the handle it must be published through.
struct Q1Slot {
  shm::WriteSlot slot;
  shm::Ring* ring;
};

class Q1Writer {
 public:
  /// Opens or creates the ring (config::ring_options). Throws shm::ShmError naming the segment.
  explicit Q1Writer(const shm::RingOptions& options);

  /// A free slot. Under `block` waits in block_timeout steps until one frees or `give_up()` is true
  /// (then nullopt); under drop policies nullopt at once when full. `blocked_ns` accumulates the wait;
  /// `stage` (may be null) is "blocked in q1 acquire" meanwhile, with a beat per step.
  std::optional<Q1Slot> acquire(const std::function<bool()>& give_up, std::atomic<uint64_t>& blocked_ns,
                                common::Stage* stage = nullptr);
  void publish(Q1Slot&& slot);
  /// End of stream: consumers (inferd) drain and see finished(). Idempotent.
  void finish();

  void set_policy(shm::OverflowPolicy policy);
  shm::OverflowPolicy policy() const;
  size_t slot_bytes() const;
  uint32_t slot_count() const;
  const std::string& name() const { return name_; }
  shm::RingCounters counters() const;
  /// "" while the segment this writer publishes into is still /dev/shm/<name> (Ring::link_problem).
  std::string link_problem() const { return current()->link_problem(); }

 private:
  shm::Ring* current() const;

  std::string name_;
  std::chrono::milliseconds block_timeout_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<shm::Ring>> handles_;  ///< never shrinks while slots may be in flight
  std::atomic<shm::Ring*> current_{nullptr};
  bool finished_ = false;
};

}  // namespace peaknet::ingestd
