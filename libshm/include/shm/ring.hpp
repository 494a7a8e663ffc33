#pragma once
// Ring: a named shared-memory pool of fixed-size, page-aligned slots moving events between processes
// (Q1: ingestd -> inferd, Q2: inferd -> writerd). Multi-producer, multi-consumer, several processes and
// several threads per process; FIFO per producer (a requeue after a crash may reorder).
//
// Producer:  auto s = ring.acquire(timeout);        // std::optional<WriteSlot>; nullopt = full/timeout
//            fill s->data() in place (zero copy);   ring.publish(std::move(*s));
//            ... ring.finish_producing();            // end of stream from this handle
// Consumer:  std::vector<ReadSlot> batch;  ring.claim(batch, max, timeout);   // 0 = timeout or finished()
//            read batch[i].data();  ring.release(std::move(batch[i]));         // any order
//
// Every slot has a state word in shm {FREE, WRITING, READY, CLAIMED} + owner (handle index in the
// segment's process table: pid + process start time) + generation, changed only by single CAS
// operations, so a SIGKILL at any instruction leaves every slot in a state that reclaim_dead() can
// resolve: WRITING of a dead owner -> FREE (counted kHalfWritten, never delivered); CLAIMED of a dead
// owner -> READY (requeued exactly once, counted). See docs/libshm.md.
//
// Threads: one Ring handle may be used by several threads at once (acquire/publish/claim/release are
// thread-safe); each handle is one "user" in the segment. WriteSlot/ReadSlot must not outlive their Ring.
// After fork(), the child attaches its own handle (a copy of the parent's handle is never unregistered
// by the child).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shm/ring_types.hpp"
#include "shm/shm_error.hpp"

namespace peaknet::shm {

class RingImpl;

/// A slot being written by this producer. Move-only. Destroyed without publish(): the slot goes back to
/// FREE (counted in RingCounters::abandoned).
class WriteSlot {
 public:
  WriteSlot(WriteSlot&& other) noexcept;
  WriteSlot& operator=(WriteSlot&& other) noexcept;
  WriteSlot(const WriteSlot&) = delete;
  WriteSlot& operator=(const WriteSlot&) = delete;
  ~WriteSlot();

  std::byte* data() const { return data_; }  ///< slot_bytes() bytes, page aligned
  size_t size() const { return size_; }
  uint32_t index() const { return index_; }  ///< slot i lives at data_area() + i * slot_bytes()
  bool valid() const { return impl_ != nullptr; }

 private:
  friend class RingImpl;
  WriteSlot(RingImpl* impl, uint32_t index, uint64_t word, std::byte* data, size_t size)
      : impl_(impl), index_(index), word_(word), data_(data), size_(size) {}
  RingImpl* impl_ = nullptr;
  uint32_t index_ = 0;
  uint64_t word_ = 0;  ///< expected slot state word (WRITING, owner, generation)
  std::byte* data_ = nullptr;
  size_t size_ = 0;
};

/// A claimed slot. Move-only. Release it with Ring::release() (never throws); destroyed unreleased, it is
/// released.
class ReadSlot {
 public:
  ReadSlot(ReadSlot&& other) noexcept;
  ReadSlot& operator=(ReadSlot&& other) noexcept;
  ReadSlot(const ReadSlot&) = delete;
  ReadSlot& operator=(const ReadSlot&) = delete;
  ~ReadSlot();

  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  uint32_t index() const { return index_; }
  uint64_t sequence() const { return ticket_; }  ///< ring-wide publish order (0-based)
  bool valid() const { return impl_ != nullptr; }

 private:
  friend class RingImpl;
  ReadSlot(RingImpl* impl, uint32_t index, uint64_t word, uint64_t ticket, const std::byte* data, size_t size)
      : impl_(impl), index_(index), word_(word), ticket_(ticket), data_(data), size_(size) {}
  RingImpl* impl_ = nullptr;
  uint32_t index_ = 0;
  uint64_t word_ = 0;  ///< expected slot state word (CLAIMED, owner, generation)
  uint64_t ticket_ = 0;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

/// One attached handle to a ring segment. Move-only; the destructor unregisters the handle (its
/// unreleased claims are requeued, its half-written slots freed) but never unlinks the segment.
class Ring {
 public:
  /// Exclusive create. An existing segment is replaced only when none of its users is alive (stale);
  /// otherwise ShmError ("... exists with live users: pid 123").
  static Ring create(const RingOptions& options);
  /// Attach when a compatible segment exists (queued events are kept: a restarted producer or consumer
  /// continues), create otherwise. Incompatible (layout, slot size/count) with live users -> ShmError;
  /// incompatible or unreadable and no live user -> replaced.
  /// Incompatible includes another nonzero RingOptions::payload_layout; replaced() says what was replaced.
  static Ring open_or_create(const RingOptions& options);
  /// Must exist. Checks magic, layout version, sizeof(header), slot size/count, file size.
  /// policy / block_timeout of the handle come from the optional arguments.
  static Ring attach(const std::string& name, OverflowPolicy policy = OverflowPolicy::kBlock,
                     std::chrono::milliseconds block_timeout = std::chrono::milliseconds(1000));

  Ring(Ring&&) noexcept;
  Ring& operator=(Ring&&) noexcept;
  ~Ring();

  // ---- producer
  /// A free slot to fill. Policy kBlock: waits up to timeout (futex) -> nullopt; kDropOldest: evicts the
  /// oldest READY slot (counted); kDropNewest: nullopt at once (counted kRingFull).
  std::optional<WriteSlot> acquire(std::chrono::milliseconds timeout);
  std::optional<WriteSlot> acquire();  ///< with the handle's block_timeout
  /// Makes the slot READY (visible to consumers). Throws ShmError when the slot was reclaimed meanwhile.
  void publish(WriteSlot&& slot);
  /// Declares this handle a producer before its first acquire() (acquire does it implicitly), so
  /// consumers do not see finished() in between.
  void begin_producing();
  /// End of stream from this handle; consumers see finished() once every producer finished and the
  /// ring drained. A later acquire() makes this handle a producer again.
  void finish_producing();

  // ---- consumer
  /// Appends 1..max READY slots (oldest first) to out; waits up to timeout for the first one.
  /// Returns the number appended: 0 on timeout or when finished().
  size_t claim(std::vector<ReadSlot>& out, size_t max, std::chrono::milliseconds timeout);
  void release(ReadSlot&& slot);
  /// Some producer attached, every producer handle has finished (a dead unfinished producer does not
  /// count as finished until a new producer attaches), and nothing is READY, CLAIMED or WRITING.
  bool finished() const;
  /// Requeue claims of dead users (at-least-once), free + count half-written slots of dead users, drop
  /// dead users from the process table. Returns the number of slots recovered. Also run on attach and
  /// at most every 100 ms from inside waiting claim/acquire calls.
  size_t reclaim_dead();

  // ---- DMA / introspection
  std::byte* data_area();  ///< page aligned; slot i at i * slot_bytes()
  size_t data_area_bytes() const;
  uint32_t slot_count() const;
  size_t slot_bytes() const;
  const std::string& name() const;
  OverflowPolicy policy() const;
  RingCounters counters() const;  ///< never blocks anyone
  std::vector<SegmentUser> users() const;
  /// "" while /dev/shm/<name> is still the segment this handle maps; else why not ("shm segment 'x':
  /// unlinked under this process ..." / "replaced under this process ..."). Such a handle waits
  /// forever: nobody else sees what it publishes or publishes what it waits for. A syscall or two
  /// (the first call also reads /proc/self/maps): call it from a supervisor, not per event.
  std::string link_problem() const;
  bool still_linked() const { return link_problem().empty(); }
  /// "" unless open_or_create() replaced an incompatible or broken segment of this name (nobody alive was
  /// using it); then what it was and how many events queued in it were dropped: log it, they are gone.
  const std::string& replaced() const;

  static void unlink(const std::string& name);  ///< no error when it does not exist
  static bool exists(const std::string& name);
  /// Every segment in /dev/shm whose name starts with prefix (rings, counter blocks, unknown files).
  static std::vector<SegmentInfo> list(const std::string& prefix);

 private:
  explicit Ring(std::unique_ptr<RingImpl> impl);
  std::unique_ptr<RingImpl> impl_;
};

}  // namespace peaknet::shm
