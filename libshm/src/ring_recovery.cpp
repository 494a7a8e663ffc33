// Dead users: requeue their claims, discard their half-written slots, free (or tombstone) their entries.
// Also counters(), users(), detach() and Ring::list().
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "counter_block_impl.hpp"
#include "process_identity.hpp"
#include "ring_impl.hpp"
#include "shm/internal/counter_layout.hpp"

namespace peaknet::shm {

using namespace layout;

namespace {
constexpr uint64_t kReclaimIntervalNs = 100'000'000;  // periodic check from waiting calls
}

// Recovers every slot owned by `user` while the entry still holds `identity`. The slot word is read
// first and the identity checked after it: if the entry was freed and reused meanwhile, the new user's
// slots carry newer words (it registered before acquiring), so the CAS below cannot take them.
size_t RingImpl::recover_slots_of(uint32_t user, uint64_t identity, bool dead) {
  size_t recovered = 0;
  size_t requeued = 0, freed = 0;
  for (uint32_t i = 0; i < header_->slot_count; ++i) {
    uint64_t w = states_[i].load(std::memory_order_acquire);
    const SlotState st = SlotWord::state(w);
    if ((st != SlotState::kWriting && st != SlotState::kClaimed) || SlotWord::owner(w) != user) continue;
    if (users_[user].identity.load(std::memory_order_acquire) != identity) return recovered;
    const uint64_t g = SlotWord::generation(w) + 1;
    if (st == SlotState::kWriting) {
      // Half written: never delivered; the slot is free again.
      if (states_[i].compare_exchange_strong(w, SlotWord::make(SlotState::kFree, kNoOwner, g),
                                             std::memory_order_acq_rel)) {
        if (dead) {
          header_->dropped[static_cast<size_t>(DropReason::kHalfWritten)].value.fetch_add(1, std::memory_order_relaxed);
        } else {
          header_->abandoned.value.fetch_add(1, std::memory_order_relaxed);
        }
        ++freed;
        ++recovered;
      }
    } else {
      // Claimed: back to READY with its original ticket (at-least-once delivery).
      if (states_[i].compare_exchange_strong(w, SlotWord::make(SlotState::kReady, kNoOwner, g),
                                             std::memory_order_acq_rel)) {
        header_->requeued.value.fetch_add(1, std::memory_order_relaxed);
        ++requeued;
        ++recovered;
      }
    }
  }
  if (freed != 0) wake_producers(INT_MAX);
  if (requeued != 0) wake_consumers(INT_MAX);
  return recovered;
}

size_t RingImpl::reclaim_dead() {
  size_t recovered = 0;
  bool entries_changed = false;
  for (uint32_t u = 0; u < kMaxUsers; ++u) {
    const uint64_t id = users_[u].identity.load(std::memory_order_acquire);
    if (id == 0 || id == kTombstone || u == me_ || detail::identity_alive(id)) continue;
    recovered += recover_slots_of(u, id, true);
    // A producer that died before finish_producing keeps the stream open (tombstone) until another
    // producer attaches; everyone else just leaves the table.
    const uint32_t f = users_[u].flags.load(std::memory_order_acquire);
    const bool unfinished_producer = (f & kUserProducer) && !(f & kUserFinished);
    uint64_t expected = id;
    if (users_[u].identity.compare_exchange_strong(expected, unfinished_producer ? kTombstone : 0,
                                                   std::memory_order_acq_rel)) {
      entries_changed = true;
    }
  }
  if (entries_changed) wake_consumers(INT_MAX);  // finished() may have changed
  return recovered;
}

void RingImpl::maybe_reclaim() {
  const uint64_t now = detail::monotonic_coarse_ns();
  uint64_t last = header_->last_reclaim_ns.load(std::memory_order_relaxed);
  if (now - last < kReclaimIntervalNs && now >= last) return;
  if (!header_->last_reclaim_ns.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
  reclaim_dead();
}

void RingImpl::detach() noexcept {
  if (me_ == kNoOwner || header_ == nullptr) return;
  // A forked child destroying its copy of the parent's handle must not unregister the parent.
  if (detail::identity_pid(my_identity_) != ::getpid()) return;
  // Slots still held by this handle (a bug of the caller, or slots outliving the Ring): give them back.
  recover_slots_of(me_, my_identity_, false);
  const uint32_t f = users_[me_].flags.load(std::memory_order_acquire);
  const bool unfinished_producer = (f & kUserProducer) && !(f & kUserFinished);
  users_[me_].flags.store(0, std::memory_order_relaxed);
  users_[me_].identity.store(unfinished_producer ? kTombstone : 0, std::memory_order_release);
  wake_consumers(INT_MAX);
  me_ = kNoOwner;
}

RingCounters RingImpl::counters() const {
  const RingHeader& h = *header_;
  RingCounters c;
  c.published = h.published.value.load(std::memory_order_relaxed);
  c.consumed = h.consumed.value.load(std::memory_order_relaxed);
  c.released = h.released.value.load(std::memory_order_relaxed);
  c.requeued = h.requeued.value.load(std::memory_order_relaxed);
  c.abandoned = h.abandoned.value.load(std::memory_order_relaxed);
  c.block_timeouts = h.block_timeouts.value.load(std::memory_order_relaxed);
  for (size_t r = 0; r < kDropReasonCount; ++r) c.dropped[r] = h.dropped[r].value.load(std::memory_order_relaxed);
  c.occupancy_hwm = h.occupancy_hwm.value.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < h.slot_count; ++i) {
    switch (SlotWord::state(states_[i].load(std::memory_order_relaxed))) {
      case SlotState::kFree:
        ++c.free;
        break;
      case SlotState::kWriting:
        ++c.writing;
        break;
      case SlotState::kReady:
        ++c.ready;
        break;
      case SlotState::kClaimed:
        ++c.claimed;
        break;
    }
  }
  c.occupancy = c.ready + c.claimed;
  for (uint32_t u = 0; u < kMaxUsers; ++u) {
    const uint64_t id = users_[u].identity.load(std::memory_order_relaxed);
    if (id == 0) continue;
    const uint32_t f = users_[u].flags.load(std::memory_order_relaxed);
    if (id != kTombstone) ++c.users;
    if (id == kTombstone || ((f & kUserProducer) && !(f & kUserFinished))) ++c.producers;
  }
  return c;
}

namespace {
std::vector<SegmentUser> users_of(const UserEntry* users) {
  std::vector<SegmentUser> out;
  for (uint32_t u = 0; u < kMaxUsers; ++u) {
    const uint64_t id = users[u].identity.load(std::memory_order_acquire);
    if (id == 0) continue;
    const uint32_t f = users[u].flags.load(std::memory_order_relaxed);
    SegmentUser s;
    if (id == kTombstone) {
      s.producer = true;  // dead unfinished producer
    } else {
      s.pid = detail::identity_pid(id);
      s.alive = detail::identity_alive(id);
      s.producer = (f & kUserProducer) != 0;
      s.finished = (f & kUserFinished) != 0;
    }
    out.push_back(s);
  }
  return out;
}
}  // namespace

std::vector<SegmentUser> RingImpl::users() const { return users_of(users_); }

std::vector<SegmentInfo> Ring::list(const std::string& prefix) {
  std::vector<SegmentInfo> out;
  DIR* dir = ::opendir(detail::kShmDir);
  if (dir == nullptr) return out;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) {
    std::string n = e->d_name;
    if (n == "." || n == ".." || n.rfind(prefix, 0) != 0) continue;
    names.push_back(n);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    SegmentInfo info;
    info.name = n;
    info.kind = "unknown";
    if (const auto creator = detail::initializing_creator(n)) {  // being created under its private name
      info.kind = "initializing";
      info.creator_pid = *creator;
      info.stale = ::kill(*creator, 0) != 0 && errno == ESRCH;
      struct stat st {};
      if (::stat((std::string(detail::kShmDir) + "/" + n).c_str(), &st) == 0) info.bytes = st.st_size;
      out.push_back(std::move(info));
      continue;
    }
    detail::ShmSegment seg;
    try {
      if (!detail::ShmSegment::open_existing(n, true, seg)) continue;
    } catch (const ShmError& e) {
      info.problem = e.what();
      out.push_back(info);
      continue;
    }
    info.bytes = seg.bytes();
    uint64_t magic = 0;
    if (seg.bytes() >= sizeof magic) std::memcpy(&magic, seg.base(), sizeof magic);
    if (magic == kRingMagic || magic == 0) {
      info.kind = "ring";
      info.problem = ring_header_problem(seg);
      if (seg.bytes() >= 32) {
        const auto& h = *reinterpret_cast<const RingHeader*>(seg.base());
        info.creator_pid = h.creator_pid;
      }
      if (info.problem.empty()) {
        const auto& h = *reinterpret_cast<const RingHeader*>(seg.base());
        info.users = users_of(reinterpret_cast<const UserEntry*>(seg.base() + h.users_offset));
        info.stale = std::none_of(info.users.begin(), info.users.end(), [](const SegmentUser& u) { return u.alive; });
      } else {
        const auto& h = *reinterpret_cast<const RingHeader*>(seg.base());
        info.stale = seg.bytes() < 32 || h.creator_pid <= 0 ||
                     !detail::identity_alive(detail::make_identity(h.creator_pid, h.creator_start_time));
      }
    } else if (magic == layout::kCounterMagic) {
      info.kind = "counters";
      info.problem = counter_block_problem(seg);
      if (seg.bytes() >= sizeof(CounterHeader)) {
        const auto& h = *reinterpret_cast<const CounterHeader*>(seg.base());
        info.creator_pid = h.owner_pid;
        info.stale =
            h.owner_pid <= 0 || !detail::identity_alive(detail::make_identity(h.owner_pid, h.owner_start_time));
      } else {
        info.stale = true;
      }
      if (info.creator_pid > 0) info.users.push_back({info.creator_pid, !info.stale, false, false});
    } else {
      info.problem = "not a peaknet segment (magic " + std::to_string(magic) + ")";
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace peaknet::shm
