#pragma once
// .npy header: magic, version 1/2/3, and the Python dict literal {'descr', 'fortran_order',
// 'shape'} parsed tolerantly (any key order, spacing, trailing commas).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "wire_dtype.hpp"

namespace peaknet::ingest {

struct NpyHeader {
  WireDType dtype;
  std::vector<uint64_t> shape;
  uint64_t header_bytes = 0;  ///< magic + length field + dict: where the data starts
  uint64_t data_bytes() const;
};

/// Bytes needed to know header_bytes: 10 (v1) or 12 (v2/v3); throws on a bad magic.
uint64_t npy_prefix_bytes(std::span<const std::byte> first10, const std::string& name);
/// Dict length from the prefix (throws kMalformed when above 1 MiB).
uint64_t npy_header_total_bytes(std::span<const std::byte> prefix, const std::string& name);
/// Parses the complete header (prefix + dict). Throws kUnsupportedDtype for object/string/other
/// dtypes and fortran order, kMalformed for a broken dict. `name` goes into messages.
NpyHeader parse_npy_header(std::span<const std::byte> header, const std::string& name);

}  // namespace peaknet::ingest
