#pragma once
// Value types around Ring: options, policies, drop reasons, counters, segment listing.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace peaknet::shm {

/// What acquire() does when no slot is free.
enum class OverflowPolicy : uint32_t {
  kBlock,       ///< wait (futex, no spinning) up to the timeout, then std::nullopt (not a drop: caller retries)
  kDropOldest,  ///< evict the oldest READY (published, unclaimed) slot and reuse it (counted kEvictedOldest);
                ///< when nothing is evictable (all slots claimed or being written) -> nullopt, counted kRingFull
  kDropNewest,  ///< std::nullopt at once, counted kRingFull
};
std::string_view to_string(OverflowPolicy p);
/// "block" | "drop_oldest" | "drop_newest" -> policy; throws ShmError naming the text otherwise.
OverflowPolicy parse_overflow_policy(std::string_view text);

/// Why an event left the ring without being released by a consumer.
enum class DropReason : uint32_t {
  kRingFull,       ///< drop_newest (or drop_oldest with nothing evictable): the new event was refused
  kEvictedOldest,  ///< drop_oldest: a published, unclaimed event was overwritten
  kHalfWritten,    ///< its producer died between acquire and publish; never delivered
  kCount
};
std::string_view to_string(DropReason r);
inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kCount);

/// How a ring is created. slot_bytes is rounded up to the page size.
struct RingOptions {
  std::string name;            ///< segment name without '/', e.g. "peaknet-q1" (shm_open("/peaknet-q1"))
  uint32_t slot_count = 64;    ///< fixed at creation
  uint64_t slot_bytes = 4096;  ///< per slot, page multiple after rounding
  OverflowPolicy policy = OverflowPolicy::kBlock;  ///< per handle (each producer may differ)
  std::chrono::milliseconds block_timeout{1000};   ///< default timeout of acquire() without argument
  bool group_shareable = false;                    ///< mode 0660 instead of 0600
  /// What the slots hold, e.g. kEventLayoutVersion (event_layout.hpp), recorded at creation. open_or_create
  /// refuses (live users) or replaces (none) a ring created with another nonzero value, so a daemon of
  /// one version never reads slots written by another. 0 = untyped (tools, tests, rings of builds before
  /// the field existed, which wrote layout 4): never conflicts.
  uint32_t payload_layout = 0;
};

/// Snapshot of the ring's shared counters (all in shm; any attached process may read them).
/// Ledger: published = released + dropped[kEvictedOldest] + occupancy (+ at most one per killed process).
/// consumed counts claims, so a requeued event is consumed twice: consumed = released + claimed_now + requeued.
struct RingCounters {
  uint64_t published = 0;       ///< publish() calls that made a slot READY
  uint64_t consumed = 0;        ///< slots claimed (claim() results), requeued ones again
  uint64_t released = 0;        ///< slots released by consumers
  uint64_t requeued = 0;        ///< claimed slots of dead consumers put back to READY
  uint64_t abandoned = 0;       ///< WriteSlots destroyed unpublished by a live producer (slot back to free)
  uint64_t block_timeouts = 0;  ///< acquire() calls under kBlock that timed out
  uint64_t dropped[kDropReasonCount] = {};
  uint64_t occupancy = 0;      ///< READY + CLAIMED slots now (counted by scanning slot states: exact)
  uint64_t occupancy_hwm = 0;  ///< highest occupancy seen at publish time
  uint64_t ready = 0;          ///< READY slots now
  uint64_t claimed = 0;        ///< CLAIMED slots now
  uint64_t writing = 0;        ///< WRITING slots now
  uint64_t free = 0;           ///< FREE slots now
  uint32_t users = 0;          ///< attached handles (live or not yet reclaimed)
  uint32_t producers = 0;      ///< handles that acquired/published and have not finished
  uint64_t total_dropped() const {
    uint64_t s = 0;
    for (uint64_t d : dropped) s += d;
    return s;
  }
};

/// One process (handle) attached to a segment, as seen by list()/users().
struct SegmentUser {
  int32_t pid = 0;
  bool alive = false;
  bool producer = false;
  bool finished = false;
};

/// One segment under /dev/shm, as seen by Ring::list (peakctl lists and cleans them).
struct SegmentInfo {
  std::string name;     ///< without '/'
  uint64_t bytes = 0;   ///< file size
  std::string kind;     ///< "ring", "counters" or "unknown" (not a libshm segment / unreadable)
  std::string problem;  ///< empty when the header is valid; else why it is not (bad magic, version...)
  int32_t creator_pid = 0;
  std::vector<SegmentUser> users;
  bool stale = false;  ///< valid header and no live user (or creator dead and unreadable): safe to unlink
};

}  // namespace peaknet::shm
