#pragma once
// MemorySink: an EventSink over process memory (tests, inspect, benchmarks). Keeps every committed
// event's metadata and, unless `keep_pixels` is false, its pixels.
#include <cstddef>
#include <vector>

#include "ingest/decode/event_sink.hpp"

namespace peaknet::ingest {

class MemorySink : public EventSink {
 public:
  struct Event {
    EventMeta meta;
    std::vector<std::byte> pixels;
  };
  explicit MemorySink(bool keep_pixels = true) : keep_pixels_(keep_pixels) {}

  std::byte* begin_event(const EventMeta& meta, size_t payload_bytes) override {
    pending_.meta = meta;
    // Without keep_pixels one buffer is reused (decoders still write every byte).
    auto& buf = keep_pixels_ ? pending_.pixels : scratch_;
    buf.resize(payload_bytes);
    ++begun_;
    return refuse_ ? nullptr : buf.data();
  }
  void commit_event() override {
    events_.push_back(std::move(pending_));
    pending_ = {};
  }
  void abort_event() override {
    pending_ = {};
    ++aborted_;
  }

  const std::vector<Event>& events() const { return events_; }
  size_t aborted() const { return aborted_; }
  size_t begun() const { return begun_; }
  /// Makes begin_event return nullptr (simulates a full ring under a drop policy).
  void refuse(bool on) { refuse_ = on; }
  void clear() {
    events_.clear();
    aborted_ = begun_ = 0;
  }

 private:
  bool keep_pixels_;
  bool refuse_ = false;
  Event pending_;
  std::vector<std::byte> scratch_;
  std::vector<Event> events_;
  size_t aborted_ = 0, begun_ = 0;
};

}  // namespace peaknet::ingest
