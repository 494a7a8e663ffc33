#pragma once
// Test helpers: unique shm names that are unlinked even when a test fails, and Q1 event publishing.
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "shm/counter_block.hpp"
#include "shm/event_layout.hpp"
#include "shm/ring.hpp"

namespace peaknet::inferd::testing {

/// "<tag>-<pid>-<n>" run name; unlinks "<run>-q1", "<run>-q2" and the inferd counter blocks on exit.
class ShmRun {
 public:
  explicit ShmRun(const std::string& tag) {
    static std::atomic<int> counter{0};
    name_ = "pkt-" + tag + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    cleanup();
  }
  ~ShmRun() { cleanup(); }
  ShmRun(const ShmRun&) = delete;
  ShmRun& operator=(const ShmRun&) = delete;
  const std::string& name() const { return name_; }
  std::string q1() const { return name_ + "-q1"; }
  std::string q2() const { return name_ + "-q2"; }

 private:
  void cleanup() {
    shm::Ring::unlink(q1());
    shm::Ring::unlink(q2());
    for (const char* suffix : {"cpu0", "cpu1", "0", "1"}) {
      shm::CounterBlock::unlink(name_ + "-stats-inferd-" + suffix);
    }
  }
  std::string name_;
};

inline shm::EventHeader make_event(uint64_t id, uint32_t c, uint32_t h, uint32_t w,
                                   shm::DType dtype = shm::DType::kF32) {
  shm::EventHeader e{};
  e.event_id = id;
  e.source_message_id = id / 2;
  e.t_recv_ns = 1;
  e.t_q1_ns = 2;
  e.timestamp = 1000.0 + double(id);
  e.photon_wavelength_a = 1.3;
  e.channels = c;
  e.height = h;
  e.width = w;
  e.orig_height = h;
  e.orig_width = w;
  e.dtype = dtype;
  e.payload_bytes = uint64_t(c) * h * w * shm::dtype_size(dtype);
  return e;
}

/// Publishes one event (header + pixels) into Q1; `pixels` may be null (zeros).
inline void publish_event(shm::Ring& q1, const shm::EventHeader& header, const void* pixels) {
  auto slot = q1.acquire(std::chrono::milliseconds(5000));
  if (!slot) throw std::runtime_error("Q1 full in test");
  std::memcpy(slot->data(), &header, sizeof(header));
  if (pixels != nullptr) {
    std::memcpy(slot->data() + shm::kPayloadOffset, pixels, header.payload_bytes);
  } else {
    std::memset(slot->data() + shm::kPayloadOffset, 0, header.payload_bytes);
  }
  q1.publish(std::move(*slot));
}

inline shm::RingOptions ring_options(const std::string& name, uint32_t slots, uint64_t slot_bytes) {
  shm::RingOptions o;
  o.name = name;
  o.slot_count = slots;
  o.slot_bytes = slot_bytes;
  return o;
}

}  // namespace peaknet::inferd::testing
