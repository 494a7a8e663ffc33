#pragma once
// Minimal zip reader for .npz messages: end-of-central-directory (+ zip64), central directory,
// local headers (zip64 extras as CPython >= 3.11.4 writes them). Sizes come from the central
// directory or its zip64 extra; nothing is allocated from a declared size.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace peaknet::ingest {

struct ZipMember {
  std::string name;
  uint16_t method = 0;  ///< 0 stored, 8 deflate
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  std::span<const std::byte> data;  ///< compressed bytes inside the message
};

/// All members of the archive. Throws kTruncated (no EOCD, members past the end), kMalformed,
/// kUnsupportedFilter (encryption, methods other than 0/8).
std::vector<ZipMember> read_zip_directory(std::span<const std::byte> message);

}  // namespace peaknet::ingest
