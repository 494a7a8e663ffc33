#pragma once
// From a decoded batch description to events: split (B,C,H,W) into B events, regroup merged
// (B*C,1,H,W) batches using the original-shape array, per-event metadata and pad offsets, and the
// begin/fill/commit|abort protocol of EventSink (one write of the pixels, into the slot).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ingest/decode/decoder.hpp"
#include "wire_dtype.hpp"

namespace peaknet::ingest {

/// A small array decoded to memory (timestamps, wavelengths, original shape), little-endian.
struct AuxArray {
  std::string name;
  WireDType dtype;
  std::vector<uint64_t> shape;
  std::vector<std::byte> bytes;
  uint64_t count() const { return dtype.size() ? bytes.size() / dtype.size() : 0; }
};

/// Names of the optional producer sequence arrays (npz members, HDF5 datasets at the root or under
/// /data, Simplon image map keys): documented in docs/decoders.md, not configurable.
inline constexpr const char* kProducerIdKey = "producer_id";
inline constexpr const char* kProducerSeqKey = "producer_seq";

struct BatchPlan {
  WireDType dtype;
  uint32_t events = 0;  ///< B
  uint32_t channels = 0, height = 0, width = 0;
  std::optional<AuxArray> timestamp, wavelength, original_shape;
  std::optional<AuxArray> producer_id, producer_seq;  ///< kProducerIdKey / kProducerSeqKey
  uint64_t event_bytes() const { return uint64_t{channels} * height * width * dtype.size(); }
};

/// Checks the detector shape (rank 4 (B,C,H,W); rank 3 (B,H,W) when `allow_rank3`) and regroups
/// merged batches using `original_shape` [B, C, H, W]. Throws kBadShape / kOverSizeLimit.
BatchPlan plan_batch(const std::string& name, WireDType dtype, const std::vector<uint64_t>& shape,
                     std::optional<AuxArray> original_shape, bool allow_rank3, const DecoderOptions& options);

/// Metadata of event `i` (timestamps / wavelength of matching length, pad offsets).
EventMeta event_meta(const BatchPlan& plan, uint32_t i, const DecoderOptions& options);

/// Fills one event through the sink: begin_event, fill(dst) (may throw DecodeError), byte swap
/// (a dropped event calls fill(nullptr): stream decoders skip its bytes, others return),
/// when the wire was big-endian, commit_event; abort_event on failure. Records the outcome in
/// `result`; returns false when `fill` failed.
bool emit_event(EventSink& sink, const EventMeta& meta, uint64_t payload_bytes, bool big_endian,
                const std::function<void(std::byte* dst)>& fill, DecodeResult& result);

/// Records a failure of event `index` (or of the whole message when nothing was emitted).
void note_reject(DecodeResult& result, RejectReason reason, const std::string& detail);

}  // namespace peaknet::ingest
