#pragma once
// The ring segment's bytes: header, process (user) table, slot state words, slot tickets, data area.
// internal/: may change between versions; every change of width, order or meaning of a field below
// needs kRingLayoutVersion bumped. tests/unit/shm/test_shm_layout.cpp pins the offsets.
//
//   offset 0                     RingHeader (kRingHeaderBytes)
//   users_offset                 UserEntry[kMaxUsers]
//   states_offset                std::atomic<uint64_t>[slot_count]   slot state words (see SlotWord)
//   tickets_offset               std::atomic<uint64_t>[slot_count]   publish order of READY slots
//   data_offset (page aligned)   slot_count * slot_bytes             the slots, contiguous
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace peaknet::shm::layout {

inline constexpr uint64_t kRingMagic = 0x31474E4952534B50ull;  // "PKSRING1" little endian
inline constexpr uint32_t kRingLayoutVersion = 1;
inline constexpr uint32_t kMaxUsers = 128;  // handles attached at once (owner fits 8 bits)
inline constexpr size_t kPageBytes = 4096;
inline constexpr size_t kCacheLine = 64;
inline constexpr size_t kRingHeaderBytes = 1280;

static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<uint64_t>) == 8 && sizeof(std::atomic<uint32_t>) == 4);

/// Slot state. Transitions (each one CAS of the whole word, generation bumped on every owner change):
///   FREE(g) -acquire-> WRITING(u,g+1) -publish-> READY(g+1) -claim-> CLAIMED(u,g+2) -release-> FREE(g+3)
///   READY -evict (drop_oldest)-> WRITING(u); WRITING(dead) -reclaim-> FREE; CLAIMED(dead) -reclaim-> READY
enum class SlotState : uint64_t { kFree = 0, kWriting = 1, kReady = 2, kClaimed = 3 };
inline constexpr uint32_t kNoOwner = 0xFF;

/// word = generation << 16 | owner << 8 | state
struct SlotWord {
  static constexpr uint64_t make(SlotState s, uint32_t owner, uint64_t generation) {
    return (generation << 16) | (uint64_t{owner & 0xFF} << 8) | static_cast<uint64_t>(s);
  }
  static constexpr SlotState state(uint64_t w) { return static_cast<SlotState>(w & 0x3); }
  static constexpr uint32_t owner(uint64_t w) { return static_cast<uint32_t>((w >> 8) & 0xFF); }
  static constexpr uint64_t generation(uint64_t w) { return w >> 16; }
};

/// One attached handle. identity = pid << 32 | low 32 bits of the process start time (clock ticks since
/// boot, /proc/<pid>/stat field 22), written by one CAS from 0, so a half-registered entry cannot exist.
struct alignas(kCacheLine) UserEntry {
  std::atomic<uint64_t> identity;  ///< 0 = free, kTombstone = dead unfinished producer
  std::atomic<uint32_t> flags;     ///< kUserProducer | kUserFinished
  uint32_t reserved0;
  std::atomic<uint64_t> start_time;    ///< full start time (informational)
  std::atomic<uint64_t> heartbeat_ns;  ///< CLOCK_MONOTONIC_COARSE of the last acquire/claim call
  std::atomic<uint64_t> attached_ns;   ///< CLOCK_REALTIME at attach
  uint8_t reserved[24];
};
inline constexpr uint64_t kTombstone = ~uint64_t{0};
inline constexpr uint32_t kUserProducer = 1u << 0;
inline constexpr uint32_t kUserFinished = 1u << 1;
static_assert(sizeof(UserEntry) == 64);

/// A counter on its own cache line (producers and consumers update different ones).
struct alignas(kCacheLine) PaddedCounter {
  std::atomic<uint64_t> value;
  uint8_t reserved[56];
};
static_assert(sizeof(PaddedCounter) == 64);

struct RingHeader {
  // --- immutable after creation; the first 40 bytes never move (any version, for diagnostics)
  std::atomic<uint64_t> magic;  ///< stored last by the creator (release): header complete
  uint32_t layout_version;
  uint32_t header_bytes;  ///< sizeof(RingHeader)
  int32_t creator_pid;
  uint32_t payload_layout;  ///< RingOptions::payload_layout of the creator (0 = untyped)
  uint64_t creator_start_time;
  uint64_t created_realtime_ns;
  uint64_t total_bytes;  ///< file size
  uint64_t slot_bytes;   ///< page multiple
  uint32_t slot_count;
  uint32_t max_users;
  uint64_t users_offset;
  uint64_t states_offset;
  uint64_t tickets_offset;
  uint64_t data_offset;     ///< page aligned
  uint32_t creator_policy;  ///< OverflowPolicy of the creating handle (informational)
  uint32_t flags;           ///< kHeaderGroupShareable
  char name[128];           ///< NUL terminated, without '/'
  uint8_t reserved1[24];
  // --- shared, mutable
  alignas(kCacheLine) std::atomic<uint64_t> next_ticket;  ///< publish order
  alignas(kCacheLine) std::atomic<uint32_t> ready_seq;    ///< futex word: bumped when slots become READY
  std::atomic<uint32_t> consumer_waiters;
  alignas(kCacheLine) std::atomic<uint32_t> free_seq;  ///< futex word: bumped when slots become FREE
  std::atomic<uint32_t> producer_waiters;
  alignas(kCacheLine) std::atomic<uint32_t> producer_seen;  ///< 1 once any handle produced
  std::atomic<uint32_t> reserved2;
  std::atomic<uint64_t> last_reclaim_ns;  ///< rate limit of the periodic reclaim
  PaddedCounter published;
  PaddedCounter consumed;
  PaddedCounter released;
  PaddedCounter occupancy;  ///< READY + CLAIMED, maintained incrementally (for the hwm)
  PaddedCounter occupancy_hwm;
  PaddedCounter requeued;
  PaddedCounter abandoned;
  PaddedCounter block_timeouts;
  PaddedCounter dropped[3];  ///< by DropReason
  uint8_t reserved3[64];
};
inline constexpr uint32_t kHeaderGroupShareable = 1u << 0;
static_assert(sizeof(RingHeader) == kRingHeaderBytes);
static_assert(std::is_standard_layout_v<RingHeader> && std::is_standard_layout_v<UserEntry>);

constexpr uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

/// Offsets and size of a ring with these parameters (the same computation on create and attach).
struct RingGeometry {
  uint64_t users_offset, states_offset, tickets_offset, data_offset, total_bytes;
  static constexpr RingGeometry of(uint32_t slot_count, uint64_t slot_bytes) {
    RingGeometry g{};
    g.users_offset = kRingHeaderBytes;
    g.states_offset = g.users_offset + uint64_t{kMaxUsers} * sizeof(UserEntry);
    g.tickets_offset = round_up(g.states_offset + uint64_t{slot_count} * 8, kCacheLine);
    g.data_offset = round_up(g.tickets_offset + uint64_t{slot_count} * 8, kPageBytes);
    g.total_bytes = g.data_offset + uint64_t{slot_count} * slot_bytes;
    return g;
  }
};

}  // namespace peaknet::shm::layout
