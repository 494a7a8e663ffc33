#include "format_decoders.hpp"

namespace peaknet::ingest {
void decode_npz(Bytes, DecodeCall&) { fail(RejectReason::kUnknownFormat, "npz: not implemented yet"); }
std::vector<AuxArray> npz_all_arrays(Bytes, const DecoderOptions&, DecodeScratch&) { return {}; }
}  // namespace peaknet::ingest
