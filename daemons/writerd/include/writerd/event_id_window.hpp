#pragma once
// EventIdWindow: the event ids writerd has already decided (written, filtered or dropped), for
// de-duplication of Q2's at-least-once delivery. Bounded: the oldest ids are forgotten first, so a
// duplicate arriving more than `capacity` events after its original is not recognised (a re-done
// event arrives within seconds of the original, long before that).
//
// Memory is allocated and touched once, at construction (a ring of the last `capacity` ids, 8 B each,
// and an open-addressing table of at least 2 x capacity slots, 8 B each): a night-long run's RSS stays
// flat instead of growing by ~50 B per event until the window is full (std::unordered_set did).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace peaknet::writerd {

class EventIdWindow {
 public:
  explicit EventIdWindow(size_t capacity);
  /// True when `id` was new (and is now remembered, forgetting the oldest id if the window is full).
  bool insert(uint64_t id);
  bool contains(uint64_t id) const;
  size_t size() const { return count_; }
  size_t capacity() const { return ring_.size(); }

 private:
  size_t home(uint64_t id) const;
  size_t find_slot(uint64_t id) const;  // the slot holding id, or the empty slot where it would go
  void erase(uint64_t id);

  // Slot value 0 means empty; id 0 itself is tracked by has_zero_.
  std::vector<uint64_t> table_;
  size_t mask_ = 0;
  std::vector<uint64_t> ring_;  // insertion order; ring_[(head_ + k) % capacity] for k < count_
  size_t head_ = 0;
  size_t count_ = 0;
  bool has_zero_ = false;
};

}  // namespace peaknet::writerd
