// The hot path: acquire / publish / claim / release. Every ownership change is one CAS on the slot's
// state word (see internal/ring_layout.hpp); counters and futex words are updated after it.
#include <algorithm>
#include <climits>

#include "futex.hpp"
#include "process_identity.hpp"
#include "ring_impl.hpp"

namespace peaknet::shm {

using namespace layout;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {
constexpr auto kReclaimSlice = milliseconds(100);  // longest sleep between dead-user checks

void update_max(std::atomic<uint64_t>& hwm, uint64_t value) {
  uint64_t cur = hwm.load(std::memory_order_relaxed);
  while (value > cur && !hwm.compare_exchange_weak(cur, value, std::memory_order_relaxed)) {}
}
}  // namespace

void RingImpl::note_heartbeat() {
  users_[me_].heartbeat_ns.store(detail::monotonic_coarse_ns(), std::memory_order_relaxed);
}

void RingImpl::wake_consumers(int count) {
  header_->ready_seq.fetch_add(1, std::memory_order_seq_cst);
  if (header_->consumer_waiters.load(std::memory_order_seq_cst) != 0) detail::futex_wake(header_->ready_seq, count);
}

void RingImpl::wake_producers(int count) {
  header_->free_seq.fetch_add(1, std::memory_order_seq_cst);
  if (header_->producer_waiters.load(std::memory_order_seq_cst) != 0) detail::futex_wake(header_->free_seq, count);
}

WriteSlot RingImpl::make_write_slot(uint32_t index, uint64_t word) {
  return WriteSlot(this, index, word, data_ + uint64_t{index} * header_->slot_bytes, header_->slot_bytes);
}

std::optional<WriteSlot> RingImpl::try_take_free() {
  const uint32_t n = header_->slot_count;
  const uint32_t start = acquire_cursor_.load(std::memory_order_relaxed) % n;
  for (uint32_t k = 0; k < n; ++k) {
    const uint32_t i = (start + k) % n;
    uint64_t w = states_[i].load(std::memory_order_relaxed);
    if (SlotWord::state(w) != SlotState::kFree) continue;
    const uint64_t mine = SlotWord::make(SlotState::kWriting, me_, SlotWord::generation(w) + 1);
    if (states_[i].compare_exchange_strong(w, mine, std::memory_order_acquire, std::memory_order_relaxed)) {
      acquire_cursor_.store(i + 1, std::memory_order_relaxed);
      return make_write_slot(i, mine);
    }
  }
  return std::nullopt;
}

std::optional<WriteSlot> RingImpl::try_evict_oldest() {
  for (int attempt = 0; attempt < 16; ++attempt) {
    uint32_t oldest = UINT32_MAX;
    uint64_t oldest_word = 0, oldest_ticket = UINT64_MAX;
    for (uint32_t i = 0; i < header_->slot_count; ++i) {
      uint64_t w = states_[i].load(std::memory_order_acquire);
      if (SlotWord::state(w) != SlotState::kReady) continue;
      uint64_t t = tickets_[i].load(std::memory_order_relaxed);
      if (t < oldest_ticket) oldest = i, oldest_word = w, oldest_ticket = t;
    }
    if (oldest == UINT32_MAX) return std::nullopt;
    const uint64_t mine = SlotWord::make(SlotState::kWriting, me_, SlotWord::generation(oldest_word) + 1);
    header_->occupancy.value.fetch_sub(1, std::memory_order_relaxed);  // early: see publish()
    if (states_[oldest].compare_exchange_strong(oldest_word, mine, std::memory_order_acquire,
                                                std::memory_order_relaxed)) {
      header_->dropped[static_cast<size_t>(DropReason::kEvictedOldest)].value.fetch_add(1, std::memory_order_relaxed);
      return make_write_slot(oldest, mine);
    }
    header_->occupancy.value.fetch_add(1, std::memory_order_relaxed);
  }
  return std::nullopt;
}

void RingImpl::begin_producing() {
  UserEntry& e = users_[me_];
  const uint32_t f = e.flags.load(std::memory_order_relaxed);
  if ((f & kUserProducer) && !(f & kUserFinished)) return;
  e.flags.store(kUserProducer, std::memory_order_seq_cst);
  header_->producer_seen.store(1, std::memory_order_seq_cst);
  // A new producer takes over the stream of dead unfinished ones (a restarted ingestd continues).
  for (uint32_t u = 0; u < kMaxUsers; ++u) {
    uint64_t t = kTombstone;
    users_[u].identity.compare_exchange_strong(t, 0, std::memory_order_acq_rel);
  }
}

std::optional<WriteSlot> RingImpl::acquire(milliseconds timeout) {
  begin_producing();
  if (auto s = try_take_free()) return s;
  note_heartbeat();
  maybe_reclaim();
  if (auto s = try_take_free()) return s;
  switch (policy_) {
    case OverflowPolicy::kDropNewest:
      header_->dropped[static_cast<size_t>(DropReason::kRingFull)].value.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    case OverflowPolicy::kDropOldest:
      if (auto s = try_evict_oldest()) return s;
      header_->dropped[static_cast<size_t>(DropReason::kRingFull)].value.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    case OverflowPolicy::kBlock:
      break;
  }
  const auto deadline = steady_clock::now() + timeout;
  header_->producer_waiters.fetch_add(1, std::memory_order_seq_cst);
  std::optional<WriteSlot> got;
  for (;;) {
    const uint32_t seq = header_->free_seq.load(std::memory_order_seq_cst);
    if ((got = try_take_free())) break;
    const auto now = steady_clock::now();
    if (now >= deadline) break;
    detail::futex_wait(header_->free_seq, seq, std::min<steady_clock::duration>(deadline - now, kReclaimSlice));
    note_heartbeat();
    maybe_reclaim();
  }
  header_->producer_waiters.fetch_sub(1, std::memory_order_seq_cst);
  if (!got) header_->block_timeouts.value.fetch_add(1, std::memory_order_relaxed);
  return got;
}

void RingImpl::publish(WriteSlot&& slot) {
  if (slot.impl_ != this)
    throw ShmError("shm segment '" + name_ + "': publish of a slot from another ring or moved-from");
  const uint32_t i = slot.index_;
  uint64_t expected = slot.word_;
  tickets_[i].store(header_->next_ticket.fetch_add(1, std::memory_order_acq_rel), std::memory_order_relaxed);
  const uint64_t ready = SlotWord::make(SlotState::kReady, kNoOwner, SlotWord::generation(expected));
  slot.impl_ = nullptr;
  if (!states_[i].compare_exchange_strong(expected, ready, std::memory_order_release, std::memory_order_relaxed)) {
    throw ShmError("shm segment '" + name_ + "': slot " + std::to_string(i) +
                   " was reclaimed before publish (handle detached?)");
  }
  header_->published.value.fetch_add(1, std::memory_order_relaxed);
  // The occupancy counter goes up late (after READY) and down early (before FREE), so it never exceeds
  // the true READY + CLAIMED count and the high-water mark is never overstated (it may be negative briefly).
  const auto now = static_cast<int64_t>(header_->occupancy.value.fetch_add(1, std::memory_order_relaxed) + 1);
  if (now > 0) update_max(header_->occupancy_hwm.value, static_cast<uint64_t>(now));
  wake_consumers(1);
}

void RingImpl::abandon(WriteSlot& slot) noexcept {
  uint64_t expected = slot.word_;
  slot.impl_ = nullptr;
  const uint64_t free_word = SlotWord::make(SlotState::kFree, kNoOwner, SlotWord::generation(expected) + 1);
  if (states_[slot.index_].compare_exchange_strong(expected, free_word, std::memory_order_release,
                                                   std::memory_order_relaxed)) {
    header_->abandoned.value.fetch_add(1, std::memory_order_relaxed);
    wake_producers(1);
  }
}

void RingImpl::finish_producing() {
  UserEntry& e = users_[me_];
  e.flags.store(kUserProducer | kUserFinished, std::memory_order_seq_cst);
  header_->producer_seen.store(1, std::memory_order_seq_cst);
  wake_consumers(INT_MAX);
}

size_t RingImpl::try_claim(std::vector<ReadSlot>& out, size_t max) {
  // Oldest READY slots first, and never a producer's later event before its earlier one: a producer's
  // event is READY before its next event takes a ticket (acq_rel on next_ticket orders all tickets), so
  // when the first scan saw ticket T, every earlier-ticket event is visible to the second scan.
  thread_local std::vector<std::pair<uint64_t, uint32_t>> candidates;
  thread_local std::vector<uint64_t> seen;
  const uint32_t n = header_->slot_count;
  seen.resize(n);
  for (int attempt = 0; attempt < 8; ++attempt) {
    candidates.clear();
    const uint32_t seq_before = header_->ready_seq.load(std::memory_order_seq_cst);
    for (uint32_t i = 0; i < n; ++i) {
      const uint64_t w = states_[i].load(std::memory_order_acquire);
      const bool ready = SlotWord::state(w) == SlotState::kReady;
      seen[i] = ready ? w : 0;
      if (ready) candidates.emplace_back(tickets_[i].load(std::memory_order_relaxed), i);
    }
    if (candidates.empty()) return 0;
    // Second scan: only tickets up to the newest one of the first scan. Every event published before
    // that ticket was taken is READY (or already claimed) by now, wherever the first scan passed it.
    // Skipped when no publish completed during the first scan (ready_seq is bumped after each READY
    // CAS, before the producer takes its next ticket): then the first scan cannot have missed one.
    uint64_t newest = 0;
    for (const auto& c : candidates) newest = std::max(newest, c.first);
    const bool quiet = header_->ready_seq.load(std::memory_order_seq_cst) == seq_before;
    for (uint32_t i = 0; !quiet && i < n; ++i) {
      const uint64_t w = states_[i].load(std::memory_order_acquire);
      if (SlotWord::state(w) == SlotState::kReady && w != seen[i]) {
        const uint64_t t = tickets_[i].load(std::memory_order_relaxed);
        if (t <= newest) candidates.emplace_back(t, i);
      }
    }
    const size_t keep = std::min(candidates.size(), max + 8);
    if (keep < candidates.size()) {
      std::nth_element(candidates.begin(), candidates.begin() + static_cast<ptrdiff_t>(keep), candidates.end());
      candidates.resize(keep);
    }
    std::sort(candidates.begin(), candidates.end());
    size_t got = 0;
    for (const auto& [ticket, i] : candidates) {
      if (got == max) break;
      uint64_t w = states_[i].load(std::memory_order_acquire);
      if (SlotWord::state(w) != SlotState::kReady) continue;
      const uint64_t t = tickets_[i].load(std::memory_order_relaxed);
      if (t != ticket) continue;  // republished since the scan: its place in the order changed
      const uint64_t mine = SlotWord::make(SlotState::kClaimed, me_, SlotWord::generation(w) + 1);
      if (!states_[i].compare_exchange_strong(w, mine, std::memory_order_acquire, std::memory_order_relaxed)) continue;
      out.push_back(ReadSlot(this, i, mine, ticket, data_ + uint64_t{i} * header_->slot_bytes, header_->slot_bytes));
      ++got;
    }
    if (got != 0) {
      header_->consumed.value.fetch_add(got, std::memory_order_relaxed);
      return got;
    }
  }
  return 0;
}

size_t RingImpl::claim(std::vector<ReadSlot>& out, size_t max, milliseconds timeout) {
  if (max == 0) return 0;
  if (size_t got = try_claim(out, max)) return got;
  note_heartbeat();
  const auto deadline = steady_clock::now() + timeout;
  header_->consumer_waiters.fetch_add(1, std::memory_order_seq_cst);
  size_t got = 0;
  for (;;) {
    const uint32_t seq = header_->ready_seq.load(std::memory_order_seq_cst);
    if ((got = try_claim(out, max)) != 0) break;
    if (finished()) break;
    const auto now = steady_clock::now();
    if (now >= deadline) break;
    detail::futex_wait(header_->ready_seq, seq, std::min<steady_clock::duration>(deadline - now, kReclaimSlice));
    note_heartbeat();
    maybe_reclaim();
  }
  header_->consumer_waiters.fetch_sub(1, std::memory_order_seq_cst);
  return got;
}

void RingImpl::release(ReadSlot& slot) {
  if (slot.impl_ != this) return;
  uint64_t expected = slot.word_;
  slot.impl_ = nullptr;
  const uint64_t free_word = SlotWord::make(SlotState::kFree, kNoOwner, SlotWord::generation(expected) + 1);
  header_->occupancy.value.fetch_sub(1, std::memory_order_relaxed);  // early: see publish()
  if (!states_[slot.index_].compare_exchange_strong(expected, free_word, std::memory_order_release,
                                                    std::memory_order_relaxed)) {
    header_->occupancy.value.fetch_add(1, std::memory_order_relaxed);
    return;  // reclaimed from us (only after detach): nothing to do
  }
  header_->released.value.fetch_add(1, std::memory_order_relaxed);
  wake_producers(1);
}

bool RingImpl::finished() const {
  if (header_->producer_seen.load(std::memory_order_seq_cst) == 0) return false;
  for (uint32_t u = 0; u < kMaxUsers; ++u) {
    const uint64_t id = users_[u].identity.load(std::memory_order_seq_cst);
    if (id == 0) continue;
    if (id == kTombstone) return false;  // a producer died before finishing
    const uint32_t f = users_[u].flags.load(std::memory_order_seq_cst);
    if ((f & kUserProducer) && !(f & kUserFinished)) return false;
  }
  for (uint32_t i = 0; i < header_->slot_count; ++i) {
    if (SlotWord::state(states_[i].load(std::memory_order_seq_cst)) != SlotState::kFree) return false;
  }
  return true;
}

}  // namespace peaknet::shm
