#pragma once
// Q1EventSink: the decoders' EventSink over Q1. begin_event acquires a slot and fills its EventHeader,
// the decoder writes the pixels straight into the slot payload (the one host copy of a frame),
// commit_event stamps the event id and publish time and publishes. One sink per decode thread.
#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "ingest/decode/event_sink.hpp"
#include "ingestd/ingest_counters.hpp"
#include "ingestd/q1_writer.hpp"

namespace peaknet::ingestd {

/// Event identity = (epoch, event id). event id = (source_id << 40) | sequence, unique within one
/// epoch; the epoch is random and nonzero, drawn once per ingestd process, so ids of an earlier run
/// (rings removed by `peakctl clean` or a reboot, sequences back at 0) or of another node never name
/// a new event: writerd de-duplicates by the pair (docs/libshm.md "Event identity").
class EventIdAllocator {
 public:
  static constexpr uint32_t kMaxSources = 1u << 12;
  static constexpr int kSequenceBits = 40;
  /// Draws a fresh epoch (getrandom; clock and pid when that fails).
  EventIdAllocator();
  explicit EventIdAllocator(uint64_t epoch) : epoch_(epoch == 0 ? 1 : epoch) {}
  uint64_t epoch() const { return epoch_; }
  /// Every source's sequence continues at `first`. A restarted ingestd passes the number of events
  /// Q1 has ever published, so event ids alone also stay unique while Q1 lives (easier to read; the
  /// epoch already tells the two processes' events apart).
  void start_all_at(uint64_t first) {
    for (auto& s : sequences_) s.store(first, std::memory_order_relaxed);
  }
  uint64_t next(uint32_t source_id) {
    const uint64_t seq = sequences_[source_id % kMaxSources].fetch_add(1, std::memory_order_relaxed);
    return (uint64_t(source_id) << kSequenceBits) | (seq & ((uint64_t(1) << kSequenceBits) - 1));
  }

 private:
  uint64_t epoch_;
  std::array<std::atomic<uint64_t>, kMaxSources> sequences_{};
};

class Q1EventSink final : public ingest::EventSink {
 public:
  /// `give_up` is polled while Q1 is full under `block` (true once a stop's flush timeout passed).
  /// `stage` (may be null): blocked while waiting for a Q1 slot, progress per published event.
  Q1EventSink(Q1Writer& q1, EventIdAllocator& ids, IngestCounters& counters, std::function<bool()> give_up,
              common::Stage* stage = nullptr);
  ~Q1EventSink() override;

  /// The message whose events follow.
  void set_source(uint32_t source_id, uint64_t message_id, uint64_t t_recv_ns);
  /// What the stage is busy with once it has a slot (a string literal; "decode" by default).
  void set_activity(const char* work) { work_ = work; }

  /// Since set_source(): events begun, and those dropped because they do not fit a Q1 slot (with the
  /// slot size the largest of them needs and its shape, "16x512x512, 4-byte pixels").
  uint64_t events_in_message() const { return events_in_message_; }
  uint64_t events_too_big() const { return events_too_big_; }
  uint64_t slot_bytes_needed() const { return slot_bytes_needed_; }
  const std::string& too_big_shape() const { return too_big_shape_; }

  std::byte* begin_event(const ingest::EventMeta& meta, size_t payload_bytes) override;
  void commit_event() override;
  void abort_event() override;

 private:
  Q1Writer& q1_;
  EventIdAllocator& ids_;
  IngestCounters& counters_;
  std::function<bool()> give_up_;
  common::Stage* stage_;
  const char* work_ = "decode";  ///< what the stage does once a slot is there (the thread's own activity)
  uint32_t source_id_ = 0;
  uint64_t message_id_ = 0, t_recv_ns_ = 0;
  uint64_t events_in_message_ = 0, events_too_big_ = 0, slot_bytes_needed_ = 0;
  std::string too_big_shape_;
  std::optional<Q1Slot> slot_;
};

}  // namespace peaknet::ingestd
