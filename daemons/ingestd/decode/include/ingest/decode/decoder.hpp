#pragma once
// Decoder: turns one wire message (npz / HDF5 file image / Simplon CBOR) into events written
// straight into EventSink slots. One Decoder per decode thread (it keeps scratch buffers);
// Simplon state is shared through SimplonSession. decode() never throws on bad input: every
// rejected message or event carries a RejectReason and a detail naming what was wrong.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "ingest/decode/decoder_options.hpp"
#include "ingest/decode/event_sink.hpp"
#include "ingest/decode/reject_reason.hpp"
#include "ingest/decode/simplon_session.hpp"

namespace peaknet::ingest {

enum class WireFormat : uint8_t { kUnknown, kNpz, kHdf5, kSimplonCbor, kFastBinary };
/// "unknown", "npz", "hdf5", "simplon-cbor", "fastbinary" (the golden MANIFEST's names).
const char* to_string(WireFormat format) noexcept;

/// Format from the first bytes (wire-formats.md §1.6). Never reads past the span.
WireFormat sniff(std::span<const std::byte> message) noexcept;

struct DecodeResult {
  WireFormat format = WireFormat::kUnknown;
  uint32_t events = 0;                 ///< committed into the sink
  uint32_t events_dropped = 0;         ///< sink had no room (begin_event returned nullptr)
  uint32_t events_rejected = 0;        ///< events lost to `reject` (others of the message may be fine)
  std::optional<RejectReason> reject;  ///< set when the message or some of its events failed
  std::string detail;                  ///< what was wrong, naming the array/dataset/key
  bool no_image = false;               ///< valid container without a detector image (counted as skip)
  bool end_of_stream = false;          ///< Simplon "stop"/"end" (a per-run hint from one rank only)
  bool held = false;                   ///< Simplon image parked until its start message arrives
  uint32_t held_evicted = 0;           ///< parked images dropped to stay within the hold bounds
  /// The detector array when it was found by lclstreamer's naming rather than the configured key
  /// (npz "<detector>.image", docs/decoders.md); empty otherwise. The caller logs it.
  std::string detector_found;
};

class Decoder {
 public:
  explicit Decoder(DecoderOptions options, std::shared_ptr<SimplonSession> session = nullptr);
  ~Decoder();
  Decoder(Decoder&&) noexcept;
  Decoder& operator=(Decoder&&) noexcept;
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  /// Decodes `message` (which must stay valid for the call only). A Simplon start message also
  /// emits the events of images parked for its run, into this `sink`.
  DecodeResult decode(std::span<const std::byte> message, EventSink& sink);

  const DecoderOptions& options() const noexcept;
  const std::shared_ptr<SimplonSession>& session() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace peaknet::ingest
