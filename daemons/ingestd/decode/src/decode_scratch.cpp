#include "decode_scratch.hpp"

#include "codecs.hpp"
#include "hdf5_parser_process.hpp"

namespace peaknet::ingest {

DecodeScratch::DecodeScratch() : inflater(std::make_unique<Inflater>()), zstd(std::make_unique<ZstdContext>()) {}
DecodeScratch::~DecodeScratch() = default;

}  // namespace peaknet::ingest
