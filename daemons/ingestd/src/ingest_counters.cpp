#include "ingestd/ingest_counters.hpp"

#include <algorithm>

namespace peaknet::ingestd {

const char* to_string(EventDropReason reason) noexcept {
  switch (reason) {
    case EventDropReason::kQ1Full:
      return "q1_full";
    case EventDropReason::kSlotTooSmall:
      return "slot_too_small";
    case EventDropReason::kDecodeFailed:
      return "decode_failed";
    case EventDropReason::kShutdown:
      return "shutdown";
    case EventDropReason::kLostInCrash:
      return "lost_in_crash";
    case EventDropReason::kCount:
      break;
  }
  return "unknown";
}

IngestCounters::IngestCounters(const std::string& block_name, size_t endpoints, bool group_shareable)
    : block_(shm::CounterBlock::open_or_create(block_name, kBlockCapacity, group_shareable)),
      messages_received(block_.counter("messages_received")),
      bytes_received(block_.counter("bytes_received")),
      messages_decoded(block_.counter("messages_decoded")),
      messages_rejected(block_.counter("messages_rejected")),
      messages_skipped(block_.counter("messages_skipped")),
      messages_held(block_.counter("messages_held")),
      messages_discarded(block_.counter("messages_discarded")),
      messages_lost_in_crash(block_.counter("messages_lost_in_crash")),
      end_of_stream_seen(block_.counter("end_of_stream_seen")),
      events_received(block_.counter("events_received")),
      events_enqueued(block_.counter("events_enqueued")),
      events_rejected(block_.counter("events_rejected")),
      payload_bytes_published(block_.counter("payload_bytes_published")),
      decode_ns(block_.counter("decode_ns")),
      q1_blocked_ns(block_.counter("q1_blocked_ns")),
      decode_queue_depth(block_.gauge("decode_queue_depth")),
      held_messages(block_.gauge("held_messages")),
      held_bytes(block_.gauge("held_bytes")),
      held_messages_max(block_.gauge("held_messages_max")),
      held_bytes_max(block_.gauge("held_bytes_max")),
      peers_connected(block_.gauge("peers_connected")),
      peer_connects(block_.counter("peer_connects")),
      peer_disconnects(block_.counter("peer_disconnects")),
      running(block_.gauge("running")),
      hdf5_lock_held_ns(block_.gauge("hdf5_lock_held_ns")),
      hdf5_lock_wait_ns(block_.gauge("hdf5_lock_wait_ns")),
      q1_slot_bytes_needed(block_.gauge("q1_slot_bytes_needed")),
      stalls(block_.counter("stalls")),
      stalled(block_.gauge("stalled")),
      producers(block_) {
  for (size_t i = 0; i < kRejectReasons; ++i) {
    rejects_[i] = &block_.counter(std::string("rejected_") + ingest::to_string(static_cast<ingest::RejectReason>(i)));
  }
  for (size_t i = 0; i < kDropReasons; ++i) {
    drops_[i] = &block_.counter(std::string("dropped_") + to_string(static_cast<EventDropReason>(i)));
  }
  for (size_t i = 0; i < endpoints; ++i) add_endpoint();
}

size_t IngestCounters::add_endpoint() {
  const size_t i = endpoints_.size();
  const std::string prefix = "endpoint." + std::to_string(i) + ".";
  endpoints_.push_back(
      {&block_.counter(prefix + "messages"), &block_.counter(prefix + "bytes"), &block_.gauge(prefix + "peers")});
  return i;
}

std::pair<uint64_t, uint64_t> IngestCounters::settle_dead_instance() {
  // Each event is counted received at begin_event and settled (published or dropped) by the same
  // thread before the next one; each message is counted received before it is queued and decoded (or
  // discarded) after. A live instance's difference is what it holds; a dead one's is what died with it.
  const uint64_t events_open = events_received.load(), events_settled = events_enqueued.load() + events_dropped_total();
  const uint64_t events = events_open - std::min(events_open, events_settled);
  const uint64_t messages_open = messages_received.load();
  const uint64_t messages_settled = messages_decoded.load() + messages_discarded.load() + messages_lost_in_crash.load();
  const uint64_t messages = messages_open - std::min(messages_open, messages_settled);
  if (events) dropped(EventDropReason::kLostInCrash).fetch_add(events);
  if (messages) messages_lost_in_crash.fetch_add(messages);
  return {events, messages};
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
