#pragma once
// EventSink: where decoded events go. ingestd implements it over a Q1 slot (pixels written straight
// into the slot payload); tests and `inspect` implement it over memory.
#include <cstddef>
#include <cstdint>

#include "shm/event_layout.hpp"

namespace peaknet::ingest {

/// One event as the decoder found it. Pixels are C-order C x H x W in `dtype`, native
/// little-endian (big-endian wire data is byte-swapped; the dtype is kept, never converted).
struct EventMeta {
  shm::DType dtype = shm::DType::kF32;
  uint32_t channels = 0, height = 0, width = 0;  ///< stored (possibly padded) frame
  uint32_t orig_height = 0, orig_width = 0;      ///< unpadded detector frame
  uint32_t pad_top = 0, pad_left = 0;            ///< detector frame offset inside the stored one
  double timestamp = 0;                          ///< per-event timestamp as sent (NaN when absent)
  double photon_wavelength_a = 0;                ///< NaN when absent
  uint64_t timestamp_u64 = 0;                    ///< exact value when the wire carried an integer timestamp
  bool has_timestamp_u64 = false;                ///< (psana (sec<<32)|nsec); doubles lose its low bits
  /// Optional producer sequence (docs/decoders.md "Producer sequence numbers"): the producer's own
  /// id (e.g. its MPI rank; 0 when only the sequence is sent) and the event's number in its stream
  /// (0, 1, 2, ... over every event it sends, whichever node receives it). Gaps are lost events.
  uint64_t producer_id = 0, producer_seq = 0;
  bool has_producer_seq = false;
  uint32_t index_in_message = 0;   ///< 0..B-1 (batch position)
  uint32_t events_in_message = 0;  ///< B
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  /// Space for `payload_bytes` (= C*H*W*dtype_size) of pixels, or nullptr when there is no room
  /// (dropped by the ring's policy): the decoder then skips this event and counts it as dropped.
  virtual std::byte* begin_event(const EventMeta& meta, size_t payload_bytes) = 0;
  /// The pixels of the event begun last are complete: publish.
  virtual void commit_event() = 0;
  /// Decoding the event begun last failed midway: discard its slot.
  virtual void abort_event() = 0;
};

}  // namespace peaknet::ingest
