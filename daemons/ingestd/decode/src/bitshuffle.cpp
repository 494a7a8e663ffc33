#include "bitshuffle.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include <lz4.h>

#include "byte_io.hpp"
#include "byte_transpose.hpp"
#include "codecs.hpp"
#include "decode_error.hpp"
#include "decode_scratch.hpp"

namespace peaknet::ingest {
namespace {

void check_block_elems(size_t block_elems, size_t elem_size, const char* what) {
  if (block_elems == 0 || block_elems % 8 != 0 || block_elems * elem_size > (64u << 20)) {
    fail(RejectReason::kDecompression,
         std::string(what) + ": bitshuffle block of " + std::to_string(block_elems) + " elements is invalid");
  }
}

}  // namespace

void bitunshuffle_block(const std::byte* src, std::byte* dst, size_t n, size_t s) {
  auto* in = reinterpret_cast<const uint8_t*>(src);
  auto* out = reinterpret_cast<uint8_t*>(dst);
  const size_t nb = n / 8;
  if (s == 1) {
    bit_planes_to_bytes(in, nb, out);
    return;
  }
  // Bits -> byte planes (one per byte of the element) in a small L1-resident buffer, then
  // interleave the planes into elements.
  thread_local std::vector<uint8_t> planes;
  if (planes.size() < n * s) planes.resize(n * s);
  for (size_t b = 0; b < s; ++b) bit_planes_to_bytes(in + b * 8 * nb, nb, planes.data() + b * n);
  interleave_byte_planes(planes.data(), out, n, s);
}

void bitshuffle_block(const std::byte* src, std::byte* dst, size_t n, size_t s) {
  auto* in = reinterpret_cast<const uint8_t*>(src);
  auto* out = reinterpret_cast<uint8_t*>(dst);
  const size_t nb = n / 8;
  for (size_t g = 0; g < nb; ++g) {
    for (size_t b = 0; b < s; ++b) {
      uint64_t x = 0;
      for (size_t j = 0; j < 8; ++j) x |= uint64_t{in[(g * 8 + j) * s + b]} << (8 * j);
      x = transpose8x8(x);
      for (size_t k = 0; k < 8; ++k) out[(b * 8 + k) * nb + g] = static_cast<uint8_t>(x >> (8 * k));
    }
  }
}

size_t bitshuffle_default_block(size_t elem_size) {
  size_t b = 8192 / std::max<size_t>(elem_size, 1);
  b = b / 8 * 8;
  return std::max<size_t>(b, 128);
}

void bitshuffle_decode(std::span<const std::byte> in, const BitshuffleStream& st, size_t n, std::byte* dst,
                       std::vector<std::byte>& block_buf, ZstdContext* zstd, const char* what) {
  const size_t s = st.elem_size;
  check_block_elems(st.block_elems, s, what);
  const size_t full = n / st.block_elems;
  const size_t leftover = n % st.block_elems;
  const size_t last = leftover - leftover % 8;
  const size_t tail = leftover % 8;
  uint64_t pos = 0;
  auto one_block = [&](size_t elems, std::byte* out) {
    const size_t bytes = elems * s;
    if (st.codec == BitshuffleCodec::kNone) {
      Bytes raw = sub_span(in, pos, bytes, what);
      pos += bytes;
      bitunshuffle_block(raw.data(), out, elems, s);
      return;
    }
    const uint32_t len = load_be<uint32_t>(in, pos, what);
    pos += 4;
    if (pos + len > in.size()) {
      fail(RejectReason::kDecompression,
           std::string(what) + ": bitshuffle block of " + std::to_string(len) + " bytes runs past the end");
    }
    Bytes block = in.subspan(pos, len);
    pos += len;
    std::byte* tmp = ensure(block_buf, bytes);
    if (st.codec == BitshuffleCodec::kLz4) lz4_decompress_exact(block, tmp, bytes, what);
    else zstd->decompress_exact(block, tmp, bytes, what);
    bitunshuffle_block(tmp, out, elems, s);
  };
  try {
    for (size_t i = 0; i < full; ++i) one_block(st.block_elems, dst + i * st.block_elems * s);
    if (last > 0) one_block(last, dst + full * st.block_elems * s);
    Bytes raw_tail = sub_span(in, pos, tail * s, what);
    std::memcpy(dst + (n - tail) * s, raw_tail.data(), tail * s);
    pos += tail * s;
  } catch (const DecodeError& e) {
    if (e.reason() == RejectReason::kTruncated) fail(RejectReason::kDecompression, e.what());
    throw;
  }
  if (pos != in.size()) {
    fail(RejectReason::kDecompression,
         std::string(what) + ": " + std::to_string(in.size() - pos) + " bytes left after the bitshuffle stream");
  }
}

void bitshuffle_decode_hdf5_chunk(std::span<const std::byte> chunk, BitshuffleCodec codec, size_t elem_size,
                                  size_t expected_bytes, std::byte* dst, std::vector<std::byte>& block_buf,
                                  ZstdContext* zstd, const char* what) {
  if (elem_size == 0 || expected_bytes % elem_size != 0) {
    fail(RejectReason::kDecompression, std::string(what) + ": bitshuffle element size mismatch");
  }
  BitshuffleStream st{codec, elem_size, bitshuffle_default_block(elem_size)};
  if (codec == BitshuffleCodec::kNone) {  // bare bitshuffle: no header, no length prefixes
    bitshuffle_decode(chunk, st, expected_bytes / elem_size, dst, block_buf, zstd, what);
    return;
  }
  if (chunk.size() < 12)
    fail(RejectReason::kDecompression, std::string(what) + ": bitshuffle chunk shorter than its header");
  const uint64_t total = load_be<uint64_t>(chunk, 0, what);
  const uint32_t block_bytes = load_be<uint32_t>(chunk, 8, what);
  if (total != expected_bytes) {
    fail(RejectReason::kDecompression, std::string(what) + ": bitshuffle header says " + std::to_string(total) +
                                           " uncompressed bytes, chunk holds " + std::to_string(expected_bytes));
  }
  if (block_bytes % elem_size != 0)
    fail(RejectReason::kDecompression,
         std::string(what) + ": bitshuffle block size not a multiple of the element size");
  st.block_elems = block_bytes / elem_size;
  bitshuffle_decode(chunk.subspan(12), st, expected_bytes / elem_size, dst, block_buf, zstd, what);
}

std::vector<std::byte> bitshuffle_lz4_compress(std::span<const std::byte> in, size_t s, size_t block_elems) {
  const size_t n = in.size() / s;
  std::vector<std::byte> out;
  std::vector<std::byte> shuffled(block_elems * s);
  std::vector<char> comp(static_cast<size_t>(LZ4_compressBound(static_cast<int>(block_elems * s))));
  size_t done = 0;
  auto emit = [&](size_t elems) {
    bitshuffle_block(in.data() + done * s, shuffled.data(), elems, s);
    const int len = LZ4_compress_default(reinterpret_cast<const char*>(shuffled.data()), comp.data(),
                                         static_cast<int>(elems * s), static_cast<int>(comp.size()));
    const uint32_t be = static_cast<uint32_t>(len);
    for (int k = 3; k >= 0; --k) out.push_back(static_cast<std::byte>(be >> (8 * k)));
    out.insert(out.end(), reinterpret_cast<std::byte*>(comp.data()), reinterpret_cast<std::byte*>(comp.data()) + len);
    done += elems;
  };
  for (size_t i = 0; i < n / block_elems; ++i) emit(block_elems);
  const size_t leftover = n % block_elems;
  if (leftover - leftover % 8 > 0) emit(leftover - leftover % 8);
  out.insert(out.end(), in.begin() + static_cast<ptrdiff_t>(done * s), in.begin() + static_cast<ptrdiff_t>(n * s));
  return out;
}

}  // namespace peaknet::ingest
