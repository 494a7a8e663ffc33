#include "format_decoders.hpp"

namespace peaknet::ingest {
void decode_hdf5(Bytes, DecodeCall&) { fail(RejectReason::kUnsupportedFilter, "hdf5: not implemented yet"); }
std::vector<AuxArray> hdf5_all_arrays(Bytes, const DecoderOptions&, DecodeScratch&) { return {}; }
}  // namespace peaknet::ingest
