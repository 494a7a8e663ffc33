#pragma once
// Why a message (or one event of it) was not delivered. Stable snake_case names: they appear in
// counters, logs, `ingestd inspect` output and the golden-vector tests.
#include <cstdint>

namespace peaknet::ingest {

enum class RejectReason : uint8_t {
  kTruncated,          ///< the message ends before its structure does
  kUnknownFormat,      ///< sniffing found no known wire format (incl. empty messages)
  kMissingField,       ///< a required array / map key is absent
  kBadShape,           ///< wrong rank or inconsistent shapes
  kUnsupportedDtype,   ///< dtype we do not accept (object/pickle, strings, float16, ...)
  kUnsupportedFilter,  ///< HDF5 filter / compression we cannot decode
  kDecompression,      ///< corrupt compressed stream, bad chunk header, size mismatch
  kOverSizeLimit,      ///< declared or decoded size above DecoderOptions::max_decoded_bytes
  kMalformed,          ///< well-framed but wrong types / impossible values
  kHoldOverflow,       ///< Simplon image parked without its start message and evicted
  kCount
};

/// "truncated", "unknown_format", "missing_field", "bad_shape", "unsupported_dtype",
/// "unsupported_filter", "decompression_error", "over_size_limit", "malformed", "hold_overflow".
const char* to_string(RejectReason reason) noexcept;

}  // namespace peaknet::ingest
