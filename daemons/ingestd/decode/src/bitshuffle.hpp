#pragma once
// Bitshuffle (kiyo-masui/bitshuffle layout): block streams of LZ4 / zstd compressed bit-planes.
// Used by HDF5 filter 32008 (12-byte header) and Simplon `compressed_data` (no header, 4096-element
// blocks). The bit-matrix transpose is our own; each block is decompressed into a small buffer and
// un-transposed straight into the destination.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace peaknet::ingest {

class ZstdContext;

enum class BitshuffleCodec : uint8_t { kNone, kLz4, kZstd };

/// Inverse bitshuffle of one block: `src` holds 8*elem_size bit-planes of n/8 bytes; n % 8 == 0.
void bitunshuffle_block(const std::byte* src, std::byte* dst, size_t n, size_t elem_size);
/// Forward transform (tests and benchmarks build inputs with it).
void bitshuffle_block(const std::byte* src, std::byte* dst, size_t n, size_t elem_size);

/// Default block size in elements for elem_size (bitshuffle: 8192 bytes, multiple of 8, >= 128).
size_t bitshuffle_default_block(size_t elem_size);

struct BitshuffleStream {
  BitshuffleCodec codec = BitshuffleCodec::kLz4;
  size_t elem_size = 1;
  size_t block_elems = 4096;
};

/// Decodes the block stream `in` (after any header) of exactly `n_elems` elements into `dst`.
/// `block_buf` is scratch; `zstd` needed for kZstd. Throws kDecompression on any inconsistency,
/// including leftover input.
void bitshuffle_decode(std::span<const std::byte> in, const BitshuffleStream& stream, size_t n_elems, std::byte* dst,
                       std::vector<std::byte>& block_buf, ZstdContext* zstd, const char* what);

/// HDF5 filter 32008 chunk: 12-byte header (u64 BE bytes, u32 BE block bytes) + block stream.
/// `expected_bytes` (chunk size) is checked against the header before anything is written.
void bitshuffle_decode_hdf5_chunk(std::span<const std::byte> chunk, BitshuffleCodec codec, size_t elem_size,
                                  size_t expected_bytes, std::byte* dst, std::vector<std::byte>& block_buf,
                                  ZstdContext* zstd, const char* what);

/// Compresses with LZ4 in the headerless block format (tests, benchmarks, fuzz seeds).
std::vector<std::byte> bitshuffle_lz4_compress(std::span<const std::byte> in, size_t elem_size, size_t block_elems);

}  // namespace peaknet::ingest
