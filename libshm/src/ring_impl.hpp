#pragma once
// RingImpl: one attached handle (mapping + its index in the process table). Split over ring.cpp
// (create/attach/validate), ring_ops.cpp (hot path) and ring_recovery.cpp (dead users, counters, list).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "shm/internal/ring_layout.hpp"
#include "shm/ring.hpp"
#include "shm_segment.hpp"

namespace peaknet::shm {

class RingImpl {
 public:
  RingImpl(detail::ShmSegment segment, std::string name, OverflowPolicy policy,
           std::chrono::milliseconds block_timeout);
  ~RingImpl();

  // ring_ops.cpp
  std::optional<WriteSlot> acquire(std::chrono::milliseconds timeout);
  void publish(WriteSlot&& slot);
  void abandon(WriteSlot& slot) noexcept;
  void begin_producing();
  void finish_producing();
  size_t claim(std::vector<ReadSlot>& out, size_t max, std::chrono::milliseconds timeout);
  void release(ReadSlot& slot);
  bool finished() const;

  // ring_recovery.cpp
  size_t reclaim_dead();
  void maybe_reclaim();
  RingCounters counters() const;
  std::vector<SegmentUser> users() const;
  void detach() noexcept;  ///< recover own outstanding slots, leave the process table

  // ring_link.cpp
  std::string link_problem() const;

  const std::string& name() const { return name_; }
  layout::RingHeader& header() const { return *header_; }
  uint32_t slot_count() const { return header_->slot_count; }
  uint64_t slot_bytes() const { return header_->slot_bytes; }
  std::byte* data() const { return data_; }
  OverflowPolicy policy() const { return policy_; }
  std::chrono::milliseconds block_timeout() const { return block_timeout_; }
  const std::string& replaced() const { return replaced_; }
  void set_replaced(std::string note) { replaced_ = std::move(note); }

 private:
  void register_user();
  std::optional<WriteSlot> try_take_free();
  std::optional<WriteSlot> try_evict_oldest();
  WriteSlot make_write_slot(uint32_t index, uint64_t word);
  size_t try_claim(std::vector<ReadSlot>& out, size_t max);
  void note_heartbeat();
  void wake_consumers(int count);
  void wake_producers(int count);
  size_t recover_slots_of(uint32_t user, uint64_t identity, bool dead);

  detail::ShmSegment segment_;
  std::string name_;
  OverflowPolicy policy_;
  std::chrono::milliseconds block_timeout_;
  std::string replaced_;  ///< Ring::replaced()
  layout::RingHeader* header_ = nullptr;
  layout::UserEntry* users_ = nullptr;
  std::atomic<uint64_t>* states_ = nullptr;
  std::atomic<uint64_t>* tickets_ = nullptr;
  std::byte* data_ = nullptr;
  uint32_t me_ = layout::kNoOwner;
  uint64_t my_identity_ = 0;
  std::atomic<uint32_t> acquire_cursor_{0};
  // ring_link.cpp: identity of the mapped file, read once from /proc/self/maps
  mutable std::once_flag link_once_;
  mutable bool mapped_known_ = false;
  mutable uint64_t mapped_dev_ = 0, mapped_ino_ = 0;
};

/// "" when the mapped bytes are a complete, self-consistent ring of this layout version; else the reason,
/// e.g. "layout version 3, expected 4". Reads only; never crashes on garbage.
std::string ring_header_problem(const detail::ShmSegment& segment);

}  // namespace peaknet::shm
