#pragma once
// Batcher: forms batches from Q1. Up to batch_size events or max_wait after the first event, whichever
// comes first (a partial batch is normal). Events of another shape than the batch being formed are
// kept (still claimed) and start the next batch. End-of-stream markers and malformed events are handed
// back separately so the caller can forward / count them; they never enter a batch.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "inferd/batch.hpp"
#include "shm/ring.hpp"

namespace peaknet::inferd {

/// Why an event was refused before inference (counted; never fatal).
struct RejectedEvent {
  shm::ReadSlot slot;
  std::string reason;  ///< "payload_bytes 100 != C*H*W*dtype 4096", ...
};

class Batcher {
 public:
  /// `q1` must outlive the batcher.
  explicit Batcher(shm::Ring& q1);

  void set_batch_size(uint32_t batch_size) { batch_size_.store(batch_size); }
  void set_max_wait(std::chrono::milliseconds max_wait) { max_wait_ms_.store(max_wait.count()); }
  /// Called at least once a second while next() waits for a batch to fill (the watchdog's sign of life
  /// when max_wait_ms is long).
  void set_beat(std::function<void()> beat) { beat_ = std::move(beat); }
  uint32_t batch_size() const { return batch_size_.load(); }
  int64_t max_wait_ms() const { return max_wait_ms_.load(); }

  /// The next batch, or nullopt when nothing arrived within `idle_timeout` (check Q1 finished() and
  /// stop flags, then call again). End-of-stream markers land in `markers`, bad events in `rejected`.
  std::optional<Batch> next(std::chrono::milliseconds idle_timeout, std::vector<shm::ReadSlot>& markers,
                            std::vector<RejectedEvent>& rejected);

  /// Claimed but not yet batched events (a shape change leaves them here). A drain calls
  /// take_pending() until it returns nullopt, so no claimed event is left behind.
  size_t pending() const { return pending_.size(); }
  std::optional<Batch> take_pending();

 private:
  /// Moves newly claimed slots into pending_, sorting out markers and malformed events.
  void take(std::vector<shm::ReadSlot>& claimed, std::vector<shm::ReadSlot>& markers,
            std::vector<RejectedEvent>& rejected);

  struct Pending {
    shm::ReadSlot slot;
    std::chrono::steady_clock::time_point claimed_at;
  };
  shm::Ring& q1_;
  std::atomic<uint32_t> batch_size_{8};
  std::atomic<int64_t> max_wait_ms_{5};
  std::deque<Pending> pending_;
  std::vector<shm::ReadSlot> scratch_;
  uint64_t next_batch_id_ = 0;
  std::function<void()> beat_;
};

}  // namespace peaknet::inferd
