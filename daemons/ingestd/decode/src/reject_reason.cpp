#include "ingest/decode/reject_reason.hpp"

namespace peaknet::ingest {

const char* to_string(RejectReason reason) noexcept {
  switch (reason) {
    case RejectReason::kTruncated:
      return "truncated";
    case RejectReason::kUnknownFormat:
      return "unknown_format";
    case RejectReason::kMissingField:
      return "missing_field";
    case RejectReason::kBadShape:
      return "bad_shape";
    case RejectReason::kUnsupportedDtype:
      return "unsupported_dtype";
    case RejectReason::kUnsupportedFilter:
      return "unsupported_filter";
    case RejectReason::kDecompression:
      return "decompression_error";
    case RejectReason::kOverSizeLimit:
      return "over_size_limit";
    case RejectReason::kMalformed:
      return "malformed";
    case RejectReason::kHoldOverflow:
      return "hold_overflow";
    case RejectReason::kCount:
      break;
  }
  return "invalid";
}

}  // namespace peaknet::ingest
