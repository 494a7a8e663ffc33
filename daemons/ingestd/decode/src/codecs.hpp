#pragma once
// Codecs the decoders share: streaming zlib inflate (raw deflate for zip members, zlib-wrapped for
// HDF5 gzip chunks) that writes straight into the destination, zstd frames, byte (un)shuffle.
#include <cstddef>
#include <cstdint>
#include <span>

#include <zlib.h>

namespace peaknet::ingest {

using Bytes = std::span<const std::byte>;

/// One z_stream, reset per member/chunk (reuse keeps its window allocated).
class Inflater {
 public:
  Inflater();
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  /// Starts a stream over `input`; raw = zip method 8 (no header), else zlib-wrapped.
  void start(Bytes input, bool raw, const char* what);
  /// Produces exactly `n` bytes into `dst` (nullptr: decode and discard). kDecompression when the
  /// stream is corrupt or ends early.
  void read(std::byte* dst, size_t n);
  /// After the last read: the stream must end here (no trailing data beyond it).
  void expect_end();
  uint64_t total_out() const { return stream_.total_out; }

 private:
  z_stream stream_{};
  bool raw_ = true;
  bool initialised_ = false;
  bool ended_ = false;
  const char* what_ = "";
  unsigned char discard_[16384];
};

class ZstdContext {
 public:
  ZstdContext();
  ~ZstdContext();
  ZstdContext(const ZstdContext&) = delete;
  ZstdContext& operator=(const ZstdContext&) = delete;
  /// One complete frame that must decompress to exactly `n` bytes.
  void decompress_exact(Bytes frame, std::byte* dst, size_t n, const char* what);

 private:
  void* ctx_;
};

/// LZ4 raw block that must decompress to exactly `n` bytes.
void lz4_decompress_exact(Bytes block, std::byte* dst, size_t n, const char* what);

/// HDF5 shuffle filter inverse: `src` holds the byte planes of `n / elem` elements.
void byte_unshuffle(const std::byte* src, std::byte* dst, size_t n, size_t elem);

}  // namespace peaknet::ingest
