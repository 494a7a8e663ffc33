#include "writerd/event_id_window.hpp"

#include <stdexcept>
#include <string>

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

size_t checked_capacity(size_t capacity) {
  if (capacity > (size_t{1} << 31)) {
    throw std::invalid_argument("event id window: capacity " + std::to_string(capacity) + " > 2^31");
  }
  return capacity == 0 ? 1 : capacity;
}

}  // namespace

// std::vector's value-initialisation writes every element: the pages are resident from the start.
EventIdWindow::EventIdWindow(size_t capacity)
    : table_(table_size_for(checked_capacity(capacity)), kEmpty),
      mask_(table_.size() - 1),
      ring_(checked_capacity(capacity)) {}

size_t EventIdWindow::home(EventKey key) const { return static_cast<size_t>(mix(key.id ^ mix(key.epoch))) & mask_; }

size_t EventIdWindow::find_slot(EventKey key) const {
  size_t i = home(key);
  while (table_[i] != kEmpty && !(ring_[table_[i]] == key)) i = (i + 1) & mask_;  // load <= 1/2: short probes
  return i;
}

bool EventIdWindow::contains(EventKey key) const { return table_[find_slot(key)] != kEmpty; }

void EventIdWindow::erase(EventKey key) {
  size_t hole = find_slot(key);
  if (table_[hole] == kEmpty) return;
  // Backward-shift deletion (linear probing without tombstones): move later members of the probe run
  // into the hole when the hole lies on their way from their home slot.
  size_t next = (hole + 1) & mask_;
  while (table_[next] != kEmpty) {
    const size_t h = home(ring_[table_[next]]);
    const bool on_the_way = ((next - h) & mask_) >= ((next - hole) & mask_);
    if (on_the_way) {
      table_[hole] = table_[next];
      hole = next;
    }
    next = (next + 1) & mask_;
  }
  table_[hole] = kEmpty;
}

bool EventIdWindow::insert(EventKey key) {
  if (contains(key)) return false;
  if (count_ == ring_.size()) {  // forget the oldest (its ring position is reused just below)
    erase(ring_[head_]);
    head_ = (head_ + 1) % ring_.size();
    --count_;
  }
  const size_t position = (head_ + count_) % ring_.size();
  ring_[position] = key;
  table_[find_slot(key)] = static_cast<uint32_t>(position);
  ++count_;
  return true;
}

}  // namespace peaknet::writerd
