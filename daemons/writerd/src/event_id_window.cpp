#include "writerd/event_id_window.hpp"

namespace peaknet::writerd {
namespace {

// splitmix64 finaliser: event ids are sequential per source, so spread them over the table.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

size_t table_size_for(size_t capacity) {
  size_t n = 2;
  while (n < 2 * capacity) n *= 2;
  return n;
}

}  // namespace

// std::vector's value-initialisation writes every element: the pages are resident from the start.
EventIdWindow::EventIdWindow(size_t capacity)
    : table_(table_size_for(capacity == 0 ? 1 : capacity), 0),
      mask_(table_.size() - 1),
      ring_(capacity == 0 ? 1 : capacity, 0) {}

size_t EventIdWindow::home(uint64_t id) const { return static_cast<size_t>(mix(id)) & mask_; }

size_t EventIdWindow::find_slot(uint64_t id) const {
  size_t i = home(id);
  while (table_[i] != 0 && table_[i] != id) i = (i + 1) & mask_;  // load <= 1/2: short probes
  return i;
}

bool EventIdWindow::contains(uint64_t id) const {
  if (id == 0) return has_zero_;
  return table_[find_slot(id)] == id;
}

void EventIdWindow::erase(uint64_t id) {
  if (id == 0) {
    has_zero_ = false;
    return;
  }
  size_t hole = find_slot(id);
  if (table_[hole] != id) return;
  // Backward-shift deletion (linear probing without tombstones): move later members of the probe run
  // into the hole when the hole lies on their way from their home slot.
  size_t next = (hole + 1) & mask_;
  while (table_[next] != 0) {
    const size_t h = home(table_[next]);
    const bool on_the_way = ((next - h) & mask_) >= ((next - hole) & mask_);
    if (on_the_way) {
      table_[hole] = table_[next];
      hole = next;
    }
    next = (next + 1) & mask_;
  }
  table_[hole] = 0;
}

bool EventIdWindow::insert(uint64_t id) {
  if (contains(id)) return false;
  if (count_ == ring_.size()) {  // forget the oldest
    erase(ring_[head_]);
    head_ = (head_ + 1) % ring_.size();
    --count_;
  }
  if (id == 0) has_zero_ = true;
  else table_[find_slot(id)] = id;
  ring_[(head_ + count_) % ring_.size()] = id;
  ++count_;
  return true;
}

}  // namespace peaknet::writerd
