#pragma once
// The two transposes behind bitshuffle and the HDF5 shuffle filter, SSE2 on x86-64 (scalar
// elsewhere and for remainders):
//   bit_planes_to_bytes: 8 bit-planes of nb bytes -> 8*nb bytes, 8x8 bit-matrix transposes;
//   interleave_byte_planes: S planes of n bytes -> n elements of S bytes (dst[i*S+b] = plane_b[i]);
// both built on the scalar 8x8 bit transpose below (which bitshuffle_block uses as well).
#include <cstddef>
#include <cstdint>

namespace peaknet::ingest {

// 8x8 bit-matrix transpose of a 64-bit word: bit j of byte k <-> bit k of byte j
// (Hacker's Delight 7-3, three masked swaps). Its own inverse.
inline uint64_t transpose8x8(uint64_t x) {
  uint64_t t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAull;
  x ^= t ^ (t << 7);
  t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCull;
  x ^= t ^ (t << 14);
  t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ull;
  x ^= t ^ (t << 28);
  return x;
}

/// planes: plane k (k = 0..7) at planes + k*nb; out[8g + j] bit k = bit j of plane k byte g.
void bit_planes_to_bytes(const uint8_t* planes, size_t nb, uint8_t* out);
/// dst[i*s + b] = planes[b*n + i] for i < n, b < s.
void interleave_byte_planes(const uint8_t* planes, uint8_t* dst, size_t n, size_t s);

}  // namespace peaknet::ingest
