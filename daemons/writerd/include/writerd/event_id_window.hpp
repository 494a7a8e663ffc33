#pragma once
// EventIdWindow: the events writerd has already decided (written, filtered or dropped), for
// de-duplication of Q2's at-least-once delivery. An event is named by its EventKey (ingest epoch +
// event id): ids restart at 0 whenever the rings are new (peakctl clean, reboot), the epoch does not
// repeat, so only a real re-delivery matches. Bounded: the oldest keys are forgotten first, so a
// duplicate arriving more than `capacity` events after its original is not recognised (a re-done
// event arrives within seconds of the original, long before that).
//
// Memory is allocated and touched once, at construction (a ring of the last `capacity` keys, 16 B
// each, and an open-addressing table of at least 2 x capacity ring positions, 4 B each): a night-long
// run's RSS stays flat instead of growing per event until the window is full.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace peaknet::writerd {

/// What names one event across restarts, reboots and nodes (shm::EventHeader::ingest_epoch +
/// event_id). Epoch 0 = written before epochs existed (or by a producer that has none).
struct EventKey {
  uint64_t epoch = 0;
  uint64_t id = 0;
  bool operator==(const EventKey&) const = default;
};

class EventIdWindow {
 public:
  /// capacity: 1 .. 2^31 keys.
  explicit EventIdWindow(size_t capacity);
  /// True when `key` was new (and is now remembered, forgetting the oldest key if the window is full).
  bool insert(EventKey key);
  bool contains(EventKey key) const;
  size_t size() const { return count_; }
  size_t capacity() const { return ring_.size(); }

 private:
  static constexpr uint32_t kEmpty = ~uint32_t{0};
  size_t home(EventKey key) const;
  size_t find_slot(EventKey key) const;  // the slot holding key, or the empty slot where it would go
  void erase(EventKey key);

  std::vector<uint32_t> table_;  // kEmpty or a position in ring_
  size_t mask_ = 0;
  std::vector<EventKey> ring_;  // insertion order; ring_[(head_ + k) % capacity] for k < count_
  size_t head_ = 0;
  size_t count_ = 0;
};

}  // namespace peaknet::writerd
