#include "q1_event_sink.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <cstring>

#include "shm/event_clock.hpp"

namespace peaknet::ingestd {
namespace {

uint64_t draw_epoch() {
  uint64_t epoch = 0;
  if (::getrandom(&epoch, sizeof epoch, 0) != sizeof epoch) {
    // No entropy source (very early boot): a clock and pid mix is still unique per process start.
    epoch = shm::realtime_ns() ^ (uint64_t(::getpid()) << 44) ^ 0x9e3779b97f4a7c15ULL;
  }
  return epoch;
}

}  // namespace

EventIdAllocator::EventIdAllocator() : EventIdAllocator(draw_epoch()) {}

Q1EventSink::Q1EventSink(Q1Writer& q1, EventIdAllocator& ids, IngestCounters& counters, std::function<bool()> give_up,
                         common::Stage* stage)
    : q1_(q1), ids_(ids), counters_(counters), give_up_(std::move(give_up)), stage_(stage) {}

Q1EventSink::~Q1EventSink() {
  if (slot_) abort_event();
}

void Q1EventSink::set_source(uint32_t source_id, uint64_t message_id, uint64_t t_recv_ns) {
  source_id_ = source_id;
  message_id_ = message_id;
  t_recv_ns_ = t_recv_ns;
  events_in_message_ = events_too_big_ = slot_bytes_needed_ = 0;
  too_big_shape_.clear();
}

std::byte* Q1EventSink::begin_event(const ingest::EventMeta& meta, size_t payload_bytes) {
  if (slot_) abort_event();  // a decoder that forgot to commit: never publish half an event
  counters_.events_received.fetch_add(1, std::memory_order_relaxed);
  ++events_in_message_;
  if (meta.has_producer_seq) counters_.producers.record(meta.producer_id, meta.producer_seq);
  if (shm::kPayloadOffset + payload_bytes > q1_.slot_bytes()) {
    counters_.dropped(EventDropReason::kSlotTooSmall).fetch_add(1, std::memory_order_relaxed);
    const uint64_t needed = (shm::kPayloadOffset + payload_bytes + 4095) / 4096 * 4096;
    ++events_too_big_;
    if (needed > slot_bytes_needed_) {
      slot_bytes_needed_ = needed;
      too_big_shape_ = std::to_string(meta.channels) + "x" + std::to_string(meta.height) + "x" +
                       std::to_string(meta.width) + ", " + std::to_string(shm::dtype_size(meta.dtype)) + "-byte pixels";
    }
    // The largest need seen: `peakctl stats` and the metrics show what q1.slot_bytes must become.
    auto& gauge = counters_.q1_slot_bytes_needed;
    for (uint64_t seen = gauge.load(); seen < needed && !gauge.compare_exchange_weak(seen, needed);) {}
    return nullptr;
  }
  slot_ = q1_.acquire(give_up_, counters_.q1_blocked_ns, stage_);
  if (stage_) stage_->busy(work_);
  if (!slot_) {
    const bool stopping = q1_.policy() == shm::OverflowPolicy::kBlock;
    counters_.dropped(stopping ? EventDropReason::kShutdown : EventDropReason::kQ1Full)
        .fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  shm::EventHeader header{};
  header.event_id = 0;  // stamped at commit, so aborted events leave no gap in a source's sequence
  header.ingest_epoch = ids_.epoch();
  header.source_message_id = message_id_;
  header.t_recv_ns = t_recv_ns_;
  header.timestamp = meta.timestamp;
  header.timestamp_raw = meta.has_timestamp_u64 ? meta.timestamp_u64 : 0;
  header.photon_wavelength_a = meta.photon_wavelength_a;
  header.payload_bytes = payload_bytes;
  header.source_id = source_id_;
  header.channels = meta.channels;
  header.height = meta.height;
  header.width = meta.width;
  header.orig_height = meta.orig_height ? meta.orig_height : meta.height;
  header.orig_width = meta.orig_width ? meta.orig_width : meta.width;
  header.pad_top = meta.pad_top;
  header.pad_left = meta.pad_left;
  header.dtype = meta.dtype;
  std::memcpy(slot_->slot.data(), &header, sizeof header);
  return slot_->slot.data() + shm::kPayloadOffset;
}

void Q1EventSink::commit_event() {
  if (!slot_) return;
  auto* header = reinterpret_cast<shm::EventHeader*>(slot_->slot.data());
  header->event_id = ids_.next(source_id_);
  header->t_q1_ns = shm::realtime_ns();
  const uint64_t bytes = header->payload_bytes;
  q1_.publish(std::move(*slot_));
  slot_.reset();
  counters_.events_enqueued.fetch_add(1, std::memory_order_relaxed);
  counters_.payload_bytes_published.fetch_add(bytes, std::memory_order_relaxed);
  if (stage_) stage_->progress();
}

void Q1EventSink::abort_event() {
  if (!slot_) return;
  slot_.reset();  // an unpublished WriteSlot returns to FREE
  counters_.dropped(EventDropReason::kDecodeFailed).fetch_add(1, std::memory_order_relaxed);
}

}  // namespace peaknet::ingestd
