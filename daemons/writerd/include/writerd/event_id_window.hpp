#pragma once
// EventIdWindow: the event ids writerd has already decided (written, filtered or dropped), for
// de-duplication of Q2's at-least-once delivery. Bounded: the oldest ids are forgotten first, so a
// duplicate arriving more than `capacity` events after its original is not recognised (a re-done
// event arrives within seconds of the original, long before that).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_set>

namespace peaknet::writerd {

class EventIdWindow {
 public:
  explicit EventIdWindow(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  /// True when `id` was new (and is now remembered).
  bool insert(uint64_t id) {
    if (!ids_.insert(id).second) return false;
    order_.push_back(id);
    if (order_.size() > capacity_) {
      ids_.erase(order_.front());
      order_.pop_front();
    }
    return true;
  }
  bool contains(uint64_t id) const { return ids_.count(id) != 0; }
  size_t size() const { return ids_.size(); }

 private:
  size_t capacity_;
  std::unordered_set<uint64_t> ids_;
  std::deque<uint64_t> order_;
};

}  // namespace peaknet::writerd
