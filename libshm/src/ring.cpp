// Ring lifecycle: create, attach, open_or_create, stale-segment replacement, header validation.
#include <cstring>
#include <sstream>
#include <thread>
#include <utility>

#include "process_identity.hpp"
#include "ring_impl.hpp"

namespace peaknet::shm {

using namespace layout;
using detail::ShmSegment;

std::string_view to_string(OverflowPolicy p) {
  switch (p) {
    case OverflowPolicy::kBlock:
      return "block";
    case OverflowPolicy::kDropOldest:
      return "drop_oldest";
    case OverflowPolicy::kDropNewest:
      return "drop_newest";
  }
  return "unknown";
}

OverflowPolicy parse_overflow_policy(std::string_view text) {
  if (text == "block") return OverflowPolicy::kBlock;
  if (text == "drop_oldest") return OverflowPolicy::kDropOldest;
  if (text == "drop_newest") return OverflowPolicy::kDropNewest;
  throw ShmError("overflow policy: expected block, drop_oldest or drop_newest, got '" + std::string(text) + "'");
}

std::string_view to_string(DropReason r) {
  switch (r) {
    case DropReason::kRingFull:
      return "ring_full";
    case DropReason::kEvictedOldest:
      return "evicted_oldest";
    case DropReason::kHalfWritten:
      return "half_written";
    case DropReason::kCount:
      break;
  }
  return "unknown";
}

namespace {

std::string seg_prefix(const std::string& name) { return "shm segment '" + name + "': "; }

std::string hex(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

const RingHeader& header_of(const ShmSegment& seg) { return *reinterpret_cast<const RingHeader*>(seg.base()); }

uint64_t page_round(uint64_t bytes) { return round_up(bytes == 0 ? 1 : bytes, kPageBytes); }

void check_options(const RingOptions& o) {
  const std::string p = seg_prefix(o.name);
  if (o.slot_count == 0 || o.slot_count > (1u << 24)) {
    throw ShmError(p + "slot_count must be 1..16777216, got " + std::to_string(o.slot_count));
  }
  if (o.slot_bytes == 0 || o.slot_bytes > (uint64_t{1} << 40)) {
    throw ShmError(p + "slot_bytes must be 1..2^40, got " + std::to_string(o.slot_bytes));
  }
}

// What is at `name` now (for create/open_or_create decisions).
enum class Existing { kNone, kInitializing, kValid, kInvalid };

struct Inspection {
  Existing what = Existing::kNone;
  std::string problem;
  bool live_users = false;
  std::string live_pids;  // "pid 12, pid 34"
  ShmSegment segment;
};

Inspection inspect(const std::string& name) {
  Inspection r;
  if (!ShmSegment::open_existing(name, false, r.segment)) return r;
  const ShmSegment& s = r.segment;
  if (s.bytes() < 40) {
    r.what = Existing::kInitializing;  // not sized yet; treated as dead after the grace period
    r.problem = "file is " + std::to_string(s.bytes()) + " bytes, smaller than the ring header";
    return r;
  }
  const RingHeader& h = header_of(s);
  const uint64_t magic = h.magic.load(std::memory_order_acquire);
  auto creator_alive = [&] {
    return h.creator_pid > 0 && detail::identity_alive(detail::make_identity(h.creator_pid, h.creator_start_time));
  };
  if (magic == 0) {
    r.what = Existing::kInitializing;
    r.problem = "not initialized";
    if (creator_alive()) {
      r.live_users = true;
      r.live_pids = "pid " + std::to_string(h.creator_pid) + " (creating)";
    }
    return r;
  }
  r.problem = ring_header_problem(s);
  if (!r.problem.empty()) {
    r.what = Existing::kInvalid;
    if (magic == kRingMagic && creator_alive()) {  // our magic, other version: trust the fixed prefix
      r.live_users = true;
      r.live_pids = "pid " + std::to_string(h.creator_pid) + " (creator)";
    }
    return r;
  }
  r.what = Existing::kValid;
  const auto* users = reinterpret_cast<const UserEntry*>(s.base() + h.users_offset);
  for (uint32_t u = 0; u < kMaxUsers; ++u) {
    const uint64_t id = users[u].identity.load(std::memory_order_acquire);
    if (id == 0 || id == kTombstone || !detail::identity_alive(id)) continue;
    if (r.live_users) r.live_pids += ", ";
    r.live_users = true;
    r.live_pids += "pid " + std::to_string(detail::identity_pid(id));
  }
  return r;
}

std::string incompatibility(const RingHeader& h, const RingOptions& o, uint64_t slot_bytes) {
  if (o.payload_layout != 0 && h.payload_layout != 0 && h.payload_layout != o.payload_layout) {
    return "payload layout " + std::to_string(h.payload_layout) + ", this build reads " +
           std::to_string(o.payload_layout) + " (written by another version of the suite)";
  }
  const uint32_t slot_count = o.slot_count;
  if (h.slot_count != slot_count) {
    return "slot count " + std::to_string(h.slot_count) + ", expected " + std::to_string(slot_count);
  }
  if (h.slot_bytes != slot_bytes) {
    return "slot size " + std::to_string(h.slot_bytes) + " bytes, expected " + std::to_string(slot_bytes);
  }
  return "";
}

ShmSegment create_fresh(const RingOptions& o, bool& exists) {
  const uint64_t slot_bytes = page_round(o.slot_bytes);
  const RingGeometry g = RingGeometry::of(o.slot_count, slot_bytes);
  // Slot words all 0 = FREE, generation 0, no owner; users all free (zero filled): only the header to write.
  auto write_header = [&](ShmSegment& seg) {
    auto& h = *reinterpret_cast<RingHeader*>(seg.base());
    h.layout_version = kRingLayoutVersion;
    h.header_bytes = sizeof(RingHeader);
    h.creator_pid = static_cast<int32_t>(::getpid());
    h.payload_layout = o.payload_layout;
    h.creator_start_time = detail::self_start_time();
    h.created_realtime_ns = detail::realtime_ns();
    h.total_bytes = g.total_bytes;
    h.slot_bytes = slot_bytes;
    h.slot_count = o.slot_count;
    h.max_users = kMaxUsers;
    h.users_offset = g.users_offset;
    h.states_offset = g.states_offset;
    h.tickets_offset = g.tickets_offset;
    h.data_offset = g.data_offset;
    h.creator_policy = static_cast<uint32_t>(o.policy);
    h.flags = o.group_shareable ? kHeaderGroupShareable : 0;
    std::strncpy(h.name, o.name.c_str(), sizeof h.name - 1);
    h.magic.store(kRingMagic, std::memory_order_release);
  };
  ShmSegment seg;
  exists = ShmSegment::create_published(o.name, g.total_bytes, o.group_shareable, write_header, seg) ==
           ShmSegment::CreateResult::kExists;
  return seg;
}

// Waits (bounded) while a live creator initializes the segment; returns the inspection afterwards.
Inspection inspect_settled(const std::string& name) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    Inspection r = inspect(name);
    if (r.what != Existing::kInitializing) return r;
    const auto waited = std::chrono::steady_clock::now() - start;
    // This library links a segment at its name only once complete (create_published), so magic 0 is a
    // file of an older version or of someone else: 60 s while its recorded creator lives, else 200 ms.
    if (waited > (r.live_users ? std::chrono::seconds(60) : std::chrono::milliseconds(200))) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

std::string ring_header_problem(const ShmSegment& s) {
  if (s.bytes() < sizeof(RingHeader)) {
    return "file is " + std::to_string(s.bytes()) + " bytes, smaller than the ring header (" +
           std::to_string(sizeof(RingHeader)) + ")";
  }
  const RingHeader& h = header_of(s);
  const uint64_t magic = h.magic.load(std::memory_order_acquire);
  if (magic != kRingMagic) return "bad magic " + hex(magic) + " (not a peaknet ring)";
  if (h.layout_version != kRingLayoutVersion) {
    return "layout version " + std::to_string(h.layout_version) + ", expected " + std::to_string(kRingLayoutVersion);
  }
  if (h.header_bytes != sizeof(RingHeader)) {
    return "header size " + std::to_string(h.header_bytes) + ", expected " + std::to_string(sizeof(RingHeader));
  }
  if (h.max_users != kMaxUsers) {
    return "process table of " + std::to_string(h.max_users) + ", expected " + std::to_string(kMaxUsers);
  }
  if (h.slot_count == 0 || h.slot_count > (1u << 24) || h.slot_bytes == 0 || h.slot_bytes % kPageBytes != 0 ||
      h.slot_bytes > (uint64_t{1} << 40)) {
    return "bad geometry: slot count " + std::to_string(h.slot_count) + ", slot size " + std::to_string(h.slot_bytes);
  }
  const RingGeometry g = RingGeometry::of(h.slot_count, h.slot_bytes);
  if (h.users_offset != g.users_offset || h.states_offset != g.states_offset || h.tickets_offset != g.tickets_offset ||
      h.data_offset != g.data_offset || h.total_bytes != g.total_bytes) {
    return "inconsistent offsets for " + std::to_string(h.slot_count) + " slots of " + std::to_string(h.slot_bytes) +
           " bytes";
  }
  if (s.bytes() < h.total_bytes) {
    return "truncated: file is " + std::to_string(s.bytes()) + " bytes, header says " + std::to_string(h.total_bytes);
  }
  return "";
}

RingImpl::RingImpl(ShmSegment segment, std::string name, OverflowPolicy policy, std::chrono::milliseconds block_timeout)
    : segment_(std::move(segment)), name_(std::move(name)), policy_(policy), block_timeout_(block_timeout) {
  std::byte* base = segment_.base();
  header_ = reinterpret_cast<RingHeader*>(base);
  users_ = reinterpret_cast<UserEntry*>(base + header_->users_offset);
  states_ = reinterpret_cast<std::atomic<uint64_t>*>(base + header_->states_offset);
  tickets_ = reinterpret_cast<std::atomic<uint64_t>*>(base + header_->tickets_offset);
  data_ = base + header_->data_offset;
  register_user();
  reclaim_dead();
}

RingImpl::~RingImpl() { detach(); }

void RingImpl::register_user() {
  my_identity_ = detail::self_identity();
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (uint32_t u = 0; u < kMaxUsers; ++u) {
      uint64_t expected = 0;
      if (users_[u].identity.compare_exchange_strong(expected, my_identity_, std::memory_order_acq_rel)) {
        users_[u].flags.store(0, std::memory_order_relaxed);
        users_[u].start_time.store(detail::self_start_time(), std::memory_order_relaxed);
        users_[u].attached_ns.store(detail::realtime_ns(), std::memory_order_relaxed);
        users_[u].heartbeat_ns.store(detail::monotonic_coarse_ns(), std::memory_order_release);
        me_ = u;
        return;
      }
    }
    me_ = kNoOwner;
    reclaim_dead();  // frees entries of dead users
  }
  throw ShmError(seg_prefix(name_) + "process table full (" + std::to_string(kMaxUsers) + " attached handles)");
}

// ---- Ring

Ring::Ring(std::unique_ptr<RingImpl> impl) : impl_(std::move(impl)) {}
Ring::Ring(Ring&&) noexcept = default;
Ring& Ring::operator=(Ring&&) noexcept = default;
Ring::~Ring() = default;

Ring Ring::create(const RingOptions& o) {
  check_options(o);
  for (int attempt = 0; attempt < 8; ++attempt) {
    bool exists = false;
    ShmSegment seg = create_fresh(o, exists);
    if (!exists) return Ring(std::make_unique<RingImpl>(std::move(seg), o.name, o.policy, o.block_timeout));
    Inspection in = inspect_settled(o.name);
    if (in.what == Existing::kNone) continue;  // vanished meanwhile
    if (in.live_users) {
      throw ShmError(seg_prefix(o.name) + "exists with live users: " + in.live_pids);
    }
    ShmSegment::unlink(o.name);  // stale: every user dead (or unreadable and nobody alive to ask)
  }
  throw ShmError(seg_prefix(o.name) + "cannot create: it keeps reappearing (concurrent creators?)");
}

Ring Ring::open_or_create(const RingOptions& o) {
  check_options(o);
  const uint64_t slot_bytes = page_round(o.slot_bytes);
  std::string replaced;
  for (int attempt = 0; attempt < 8; ++attempt) {
    Inspection in = inspect_settled(o.name);
    if (in.what == Existing::kNone) {
      bool exists = false;
      ShmSegment seg = create_fresh(o, exists);
      if (exists) continue;  // lost a race with another creator: attach to theirs
      auto impl = std::make_unique<RingImpl>(std::move(seg), o.name, o.policy, o.block_timeout);
      impl->set_replaced(std::move(replaced));
      return Ring(std::move(impl));
    }
    std::string problem = in.problem;
    uint64_t queued = 0;
    if (in.what == Existing::kValid) {
      problem = incompatibility(header_of(in.segment), o, slot_bytes);
      if (problem.empty()) {
        return Ring(std::make_unique<RingImpl>(std::move(in.segment), o.name, o.policy, o.block_timeout));
      }
      queued = header_of(in.segment).occupancy.value.load(std::memory_order_relaxed);
    }
    if (in.live_users) {
      throw ShmError(seg_prefix(o.name) + problem + "; in use by " + in.live_pids);
    }
    ShmSegment::unlink(o.name);  // incompatible or broken, nobody alive: replace it
    replaced = seg_prefix(o.name) + "replaced (" + problem + ")" +
               (in.what == Existing::kValid ? "; " + std::to_string(queued) + " events queued in it were dropped" : "");
  }
  throw ShmError(seg_prefix(o.name) + "cannot open or create: it keeps changing (concurrent creators?)");
}

Ring Ring::attach(const std::string& name, OverflowPolicy policy, std::chrono::milliseconds block_timeout) {
  Inspection in = inspect_settled(name);
  if (in.what == Existing::kNone) throw ShmError(seg_prefix(name) + "does not exist");
  if (in.what != Existing::kValid) throw ShmError(seg_prefix(name) + in.problem);
  return Ring(std::make_unique<RingImpl>(std::move(in.segment), name, policy, block_timeout));
}

std::optional<WriteSlot> Ring::acquire(std::chrono::milliseconds timeout) { return impl_->acquire(timeout); }
std::optional<WriteSlot> Ring::acquire() { return impl_->acquire(impl_->block_timeout()); }
void Ring::publish(WriteSlot&& slot) { impl_->publish(std::move(slot)); }
void Ring::begin_producing() { impl_->begin_producing(); }
void Ring::finish_producing() { impl_->finish_producing(); }
size_t Ring::claim(std::vector<ReadSlot>& out, size_t max, std::chrono::milliseconds timeout) {
  return impl_->claim(out, max, timeout);
}
void Ring::release(ReadSlot&& slot) { impl_->release(slot); }
bool Ring::finished() const { return impl_->finished(); }
size_t Ring::reclaim_dead() { return impl_->reclaim_dead(); }
std::byte* Ring::data_area() { return impl_->data(); }
size_t Ring::data_area_bytes() const { return size_t{impl_->slot_count()} * impl_->slot_bytes(); }
uint32_t Ring::slot_count() const { return impl_->slot_count(); }
size_t Ring::slot_bytes() const { return impl_->slot_bytes(); }
const std::string& Ring::name() const { return impl_->name(); }
const std::string& Ring::replaced() const { return impl_->replaced(); }
OverflowPolicy Ring::policy() const { return impl_->policy(); }
RingCounters Ring::counters() const { return impl_->counters(); }
std::vector<SegmentUser> Ring::users() const { return impl_->users(); }
void Ring::unlink(const std::string& name) { ShmSegment::unlink(name); }
bool Ring::exists(const std::string& name) { return ShmSegment::exists(name); }

// ---- slots

WriteSlot::WriteSlot(WriteSlot&& o) noexcept
    : impl_(std::exchange(o.impl_, nullptr)), index_(o.index_), word_(o.word_), data_(o.data_), size_(o.size_) {}
WriteSlot& WriteSlot::operator=(WriteSlot&& o) noexcept {
  if (this != &o) {
    if (impl_ != nullptr) impl_->abandon(*this);
    impl_ = std::exchange(o.impl_, nullptr);
    index_ = o.index_;
    word_ = o.word_;
    data_ = o.data_;
    size_ = o.size_;
  }
  return *this;
}
WriteSlot::~WriteSlot() {
  if (impl_ != nullptr) impl_->abandon(*this);
}

ReadSlot::ReadSlot(ReadSlot&& o) noexcept
    : impl_(std::exchange(o.impl_, nullptr)),
      index_(o.index_),
      word_(o.word_),
      ticket_(o.ticket_),
      data_(o.data_),
      size_(o.size_) {}
ReadSlot& ReadSlot::operator=(ReadSlot&& o) noexcept {
  if (this != &o) {
    if (impl_ != nullptr) impl_->release(*this);
    impl_ = std::exchange(o.impl_, nullptr);
    index_ = o.index_;
    word_ = o.word_;
    ticket_ = o.ticket_;
    data_ = o.data_;
    size_ = o.size_;
  }
  return *this;
}
ReadSlot::~ReadSlot() {
  if (impl_ != nullptr) impl_->release(*this);
}

}  // namespace peaknet::shm
