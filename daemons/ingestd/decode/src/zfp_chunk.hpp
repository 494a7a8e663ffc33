#pragma once
// ZFP (H5Z-ZFP filter 32013) chunk decoding with libzfp: cd_values[0] is a version word, the zfp
// stream header (field type, dims, mode) follows from cd_values[1] on; the chunk is the bare stream.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "wire_dtype.hpp"

namespace peaknet::ingest {

bool zfp_available();
void zfp_decode_chunk(std::span<const std::byte> chunk, const std::vector<unsigned>& cd_values, WireDType dtype,
                      uint64_t expected_bytes, std::byte* dst, std::vector<std::byte>& scratch,
                      const std::string& what);

}  // namespace peaknet::ingest
