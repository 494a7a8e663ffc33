#include "format_decoders.hpp"

namespace peaknet::ingest {
void decode_simplon(Bytes, DecodeCall&, SimplonSession&) { fail(RejectReason::kUnknownFormat, "simplon: not implemented yet"); }
bool simplon_is_start(Bytes) noexcept { return false; }
std::vector<AuxArray> simplon_all_arrays(Bytes, const DecoderOptions&, SimplonSession&) { return {}; }
}  // namespace peaknet::ingest
