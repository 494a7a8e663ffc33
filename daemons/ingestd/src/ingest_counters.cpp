#include "ingestd/ingest_counters.hpp"

namespace peaknet::ingestd {

const char* to_string(EventDropReason reason) noexcept {
  switch (reason) {
    case EventDropReason::kQ1Full: return "q1_full";
    case EventDropReason::kSlotTooSmall: return "slot_too_small";
    case EventDropReason::kDecodeFailed: return "decode_failed";
    case EventDropReason::kShutdown: return "shutdown";
    case EventDropReason::kCount: break;
  }
  return "unknown";
}

IngestCounters::IngestCounters(const std::string& block_name, size_t endpoints, bool group_shareable)
    : block_(shm::CounterBlock::open_or_create(block_name, shm::CounterBlock::kDefaultCapacity, group_shareable)),
      messages_received(block_.counter("messages_received")),
      bytes_received(block_.counter("bytes_received")),
      messages_decoded(block_.counter("messages_decoded")),
      messages_rejected(block_.counter("messages_rejected")),
      messages_skipped(block_.counter("messages_skipped")),
      messages_held(block_.counter("messages_held")),
      messages_discarded(block_.counter("messages_discarded")),
      end_of_stream_seen(block_.counter("end_of_stream_seen")),
      events_received(block_.counter("events_received")),
      events_enqueued(block_.counter("events_enqueued")),
      events_rejected(block_.counter("events_rejected")),
      payload_bytes_published(block_.counter("payload_bytes_published")),
      decode_ns(block_.counter("decode_ns")),
      q1_blocked_ns(block_.counter("q1_blocked_ns")),
      decode_queue_depth(block_.gauge("decode_queue_depth")),
      peers_connected(block_.gauge("peers_connected")),
      running(block_.gauge("running")),
      hdf5_lock_held_ns(block_.gauge("hdf5_lock_held_ns")),
      hdf5_lock_wait_ns(block_.gauge("hdf5_lock_wait_ns")),
      q1_slot_bytes_needed(block_.gauge("q1_slot_bytes_needed")),
      stalls(block_.counter("stalls")),
      stalled(block_.gauge("stalled")) {
  for (size_t i = 0; i < kRejectReasons; ++i) {
    rejects_[i] = &block_.counter(std::string("rejected_") + ingest::to_string(static_cast<ingest::RejectReason>(i)));
  }
  for (size_t i = 0; i < kDropReasons; ++i) {
    drops_[i] = &block_.counter(std::string("dropped_") + to_string(static_cast<EventDropReason>(i)));
  }
  for (size_t i = 0; i < endpoints; ++i) {
    const std::string prefix = "endpoint." + std::to_string(i) + ".";
    endpoints_.push_back({&block_.counter(prefix + "messages"), &block_.counter(prefix + "bytes"),
                          &block_.gauge(prefix + "peers")});
  }
}

uint64_t IngestCounters::events_dropped_total() const {
  uint64_t sum = 0;
  for (const auto* d : drops_) sum += d->load();
  return sum;
}

nlohmann::json IngestCounters::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : block_.snapshot()) out[name] = value;
  return out;
}

}  // namespace peaknet::ingestd
