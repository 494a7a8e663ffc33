#include "format_decoders.hpp"

namespace peaknet::ingest {
void decode_fastbinary(Bytes, DecodeCall&) { fail(RejectReason::kUnknownFormat, "fastbinary: not implemented yet"); }
std::vector<AuxArray> fastbinary_all_arrays(Bytes, const DecoderOptions&) { return {}; }
}  // namespace peaknet::ingest
