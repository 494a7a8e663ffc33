#include "byte_transpose.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace peaknet::ingest {
namespace {

void bits_scalar(const uint8_t* planes, size_t nb, size_t g, uint8_t* out) {
  for (; g < nb; ++g) {
    uint64_t x = 0;
    for (size_t k = 0; k < 8; ++k) x |= uint64_t{planes[k * nb + g]} << (8 * k);
    x = transpose8x8(x);
    for (size_t j = 0; j < 8; ++j) out[8 * g + j] = static_cast<uint8_t>(x >> (8 * j));
  }
}

void interleave_scalar(const uint8_t* planes, uint8_t* dst, size_t n, size_t s, size_t i) {
  for (; i < n; ++i) {
    for (size_t b = 0; b < s; ++b) dst[i * s + b] = planes[b * n + i];
  }
}

#if defined(__SSE2__)
inline __m128i transpose8x8_x2(__m128i x) {
  const __m128i m1 = _mm_set1_epi64x(0x00AA00AA00AA00AAll);
  const __m128i m2 = _mm_set1_epi64x(0x0000CCCC0000CCCCll);
  const __m128i m3 = _mm_set1_epi64x(0x00000000F0F0F0F0ll);
  __m128i t = _mm_and_si128(_mm_xor_si128(x, _mm_srli_epi64(x, 7)), m1);
  x = _mm_xor_si128(x, _mm_xor_si128(t, _mm_slli_epi64(t, 7)));
  t = _mm_and_si128(_mm_xor_si128(x, _mm_srli_epi64(x, 14)), m2);
  x = _mm_xor_si128(x, _mm_xor_si128(t, _mm_slli_epi64(t, 14)));
  t = _mm_and_si128(_mm_xor_si128(x, _mm_srli_epi64(x, 28)), m3);
  x = _mm_xor_si128(x, _mm_xor_si128(t, _mm_slli_epi64(t, 28)));
  return x;
}
inline __m128i load(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
inline void store(uint8_t* p, __m128i v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); }

/// Interleaves 16 bytes of each of 8 planes (plane k at p + k * stride + i) into 128 output bytes:
/// out[v] holds output bytes 16v..16v+15, i.e. byte j of plane k lands at 8 * j + k. Three unpack stages.
inline void interleave8x16(const uint8_t* p, size_t stride, size_t i, __m128i out[8]) {
  __m128i x[8];
  for (size_t k = 0; k < 8; ++k) x[k] = load(p + k * stride + i);
  const __m128i a0 = _mm_unpacklo_epi8(x[0], x[1]), a1 = _mm_unpackhi_epi8(x[0], x[1]);
  const __m128i b0 = _mm_unpacklo_epi8(x[2], x[3]), b1 = _mm_unpackhi_epi8(x[2], x[3]);
  const __m128i c0 = _mm_unpacklo_epi8(x[4], x[5]), c1 = _mm_unpackhi_epi8(x[4], x[5]);
  const __m128i d0 = _mm_unpacklo_epi8(x[6], x[7]), d1 = _mm_unpackhi_epi8(x[6], x[7]);
  const __m128i e[4] = {_mm_unpacklo_epi16(a0, b0), _mm_unpackhi_epi16(a0, b0), _mm_unpacklo_epi16(a1, b1),
                        _mm_unpackhi_epi16(a1, b1)};
  const __m128i f[4] = {_mm_unpacklo_epi16(c0, d0), _mm_unpackhi_epi16(c0, d0), _mm_unpacklo_epi16(c1, d1),
                        _mm_unpackhi_epi16(c1, d1)};
  for (size_t q = 0; q < 4; ++q) {
    out[2 * q] = _mm_unpacklo_epi32(e[q], f[q]);
    out[2 * q + 1] = _mm_unpackhi_epi32(e[q], f[q]);
  }
}
#endif

}  // namespace

void bit_planes_to_bytes(const uint8_t* planes, size_t nb, uint8_t* out) {
  size_t g = 0;
#if defined(__SSE2__)
  // 16 plane bytes per plane at a time: gather each group's 8 plane bytes into one 64-bit lane,
  // transpose two lanes per register, store 16 output bytes.
  for (; g + 16 <= nb; g += 16) {
    __m128i v[8];
    interleave8x16(planes, nb, g, v);
    uint8_t* o = out + 8 * g;
    for (size_t k = 0; k < 8; ++k) store(o + 16 * k, transpose8x8_x2(v[k]));
  }
#endif
  bits_scalar(planes, nb, g, out);
}

void interleave_byte_planes(const uint8_t* p, uint8_t* dst, size_t n, size_t s) {
  size_t i = 0;
#if defined(__SSE2__)
  if (s == 2) {
    for (; i + 16 <= n; i += 16) {
      const __m128i x0 = load(p + i), x1 = load(p + n + i);
      store(dst + 2 * i, _mm_unpacklo_epi8(x0, x1));
      store(dst + 2 * i + 16, _mm_unpackhi_epi8(x0, x1));
    }
  } else if (s == 4) {
    for (; i + 16 <= n; i += 16) {
      const __m128i x0 = load(p + i), x1 = load(p + n + i), x2 = load(p + 2 * n + i), x3 = load(p + 3 * n + i);
      const __m128i a0 = _mm_unpacklo_epi8(x0, x1), a1 = _mm_unpackhi_epi8(x0, x1);
      const __m128i b0 = _mm_unpacklo_epi8(x2, x3), b1 = _mm_unpackhi_epi8(x2, x3);
      uint8_t* o = dst + 4 * i;
      store(o, _mm_unpacklo_epi16(a0, b0));
      store(o + 16, _mm_unpackhi_epi16(a0, b0));
      store(o + 32, _mm_unpacklo_epi16(a1, b1));
      store(o + 48, _mm_unpackhi_epi16(a1, b1));
    }
  } else if (s == 8) {
    for (; i + 16 <= n; i += 16) {
      __m128i v[8];
      interleave8x16(p, n, i, v);
      for (size_t k = 0; k < 8; ++k) store(dst + 8 * i + 16 * k, v[k]);
    }
  }
#endif
  interleave_scalar(p, dst, n, s, i);
}

}  // namespace peaknet::ingest
