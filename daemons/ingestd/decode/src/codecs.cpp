#include "codecs.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

#include <lz4.h>
#include <zstd.h>

#include "byte_transpose.hpp"
#include "decode_error.hpp"

namespace peaknet::ingest {

Inflater::Inflater() = default;
Inflater::~Inflater() {
  if (initialised_) inflateEnd(&stream_);
}

void Inflater::start(Bytes input, bool raw, const char* what) {
  what_ = what;
  const int bits = raw ? -15 : 15;
  if (!initialised_ || raw != raw_) {
    if (initialised_) inflateEnd(&stream_);
    stream_ = z_stream{};
    if (inflateInit2(&stream_, bits) != Z_OK) fail(RejectReason::kDecompression, "zlib init failed");
    initialised_ = true;
    raw_ = raw;
  } else if (inflateReset(&stream_) != Z_OK) {
    fail(RejectReason::kDecompression, "zlib reset failed");
  }
  stream_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(input.data()));
  stream_.avail_in = 0;
  stream_.total_out = 0;
  ended_ = false;
  // avail_in is 32-bit: feed in pieces (inputs beyond 4 GiB are already over any size limit).
  stream_.avail_in = static_cast<uInt>(std::min<size_t>(input.size(), UINT_MAX));
}

void Inflater::read(std::byte* dst, size_t n) {
  while (n > 0) {
    if (ended_) {
      fail(RejectReason::kDecompression,
           std::string(what_) + ": deflate stream ends " + std::to_string(n) + " bytes early");
    }
    unsigned char* out = dst ? reinterpret_cast<unsigned char*>(dst) : discard_;
    const size_t chunk = dst ? std::min<size_t>(n, UINT_MAX) : std::min(n, sizeof(discard_));
    stream_.next_out = out;
    stream_.avail_out = static_cast<uInt>(chunk);
    const int rc = inflate(&stream_, Z_SYNC_FLUSH);
    const size_t produced = chunk - stream_.avail_out;
    if (rc == Z_STREAM_END) {
      ended_ = true;
    } else if (rc == Z_BUF_ERROR && produced == 0) {
      fail(RejectReason::kDecompression,
           std::string(what_) + ": deflate stream truncated (" + std::to_string(n) + " bytes missing)");
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      fail(RejectReason::kDecompression,
           std::string(what_) + ": inflate failed: " + (stream_.msg ? stream_.msg : std::to_string(rc)));
    }
    if (produced == 0 && !ended_ && stream_.avail_in == 0) {
      fail(RejectReason::kDecompression,
           std::string(what_) + ": deflate stream truncated (" + std::to_string(n) + " bytes missing)");
    }
    n -= produced;
    if (dst) dst += produced;
  }
}

void Inflater::expect_end() {
  if (ended_) return;
  unsigned char probe[1];
  stream_.next_out = probe;
  stream_.avail_out = 1;
  const int rc = inflate(&stream_, Z_SYNC_FLUSH);
  if (rc != Z_STREAM_END || stream_.avail_out != 1) {
    fail(RejectReason::kDecompression, std::string(what_) + ": deflate stream longer than declared");
  }
  ended_ = true;
}

ZstdContext::ZstdContext() : ctx_(ZSTD_createDCtx()) {}
ZstdContext::~ZstdContext() { ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(ctx_)); }

void ZstdContext::decompress_exact(Bytes frame, std::byte* dst, size_t n, const char* what) {
  const size_t rc = ZSTD_decompressDCtx(static_cast<ZSTD_DCtx*>(ctx_), dst, n, frame.data(), frame.size());
  if (ZSTD_isError(rc)) {
    fail(RejectReason::kDecompression, std::string(what) + ": zstd: " + ZSTD_getErrorName(rc));
  }
  if (rc != n) {
    fail(RejectReason::kDecompression,
         std::string(what) + ": zstd block gave " + std::to_string(rc) + " bytes, expected " + std::to_string(n));
  }
}

void lz4_decompress_exact(Bytes block, std::byte* dst, size_t n, const char* what) {
  if (block.size() > INT_MAX || n > INT_MAX)
    fail(RejectReason::kDecompression, std::string(what) + ": LZ4 block too large");
  const int rc = LZ4_decompress_safe(reinterpret_cast<const char*>(block.data()), reinterpret_cast<char*>(dst),
                                     static_cast<int>(block.size()), static_cast<int>(n));
  if (rc < 0 || static_cast<size_t>(rc) != n) {
    fail(RejectReason::kDecompression, std::string(what) + ": LZ4 block corrupt (got " + std::to_string(rc) +
                                           ", expected " + std::to_string(n) + " bytes)");
  }
}

void byte_unshuffle(const std::byte* src, std::byte* dst, size_t n, size_t elem) {
  const size_t count = elem ? n / elem : 0;
  interleave_byte_planes(reinterpret_cast<const uint8_t*>(src), reinterpret_cast<uint8_t*>(dst), count, elem);
  // HDF5 leaves the bytes of a trailing partial element unshuffled.
  std::memcpy(dst + count * elem, src + count * elem, n - count * elem);
}

}  // namespace peaknet::ingest
