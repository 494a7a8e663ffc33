#pragma once
// Device helpers shared by the fused kernels: fp32/bf16 conversion, rounding to a storage type (so a
// kernel can mirror where the unfused torch ops round), torch's exact GELU and warp sums.
#include <cuda_bf16.h>

#include <cmath>
#include <cstdint>

#include "element_type.hpp"

namespace peaknet::model::cuda {

/// Whether p starts on a 16-byte boundary (what the kernels' vector loads and stores need).
inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <class T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

/// v as a bf16 tensor would store it.
__device__ __forceinline__ float round_bf16(float v) { return __bfloat162float(__float2bfloat16_rn(v)); }
/// v as a tensor of `type` would store it.
__device__ __forceinline__ float round_to(float v, ElementType type) {
  return type == ElementType::kBFloat16 ? round_bf16(v) : v;
}

/// Element i of a tensor of run-time type `type` (uniform across the grid, so the branch is free).
__device__ __forceinline__ float load_as_float(const void* base, ElementType type, long long i) {
  return type == ElementType::kBFloat16 ? __bfloat162float(static_cast<const __nv_bfloat16*>(base)[i])
                                        : static_cast<const float*>(base)[i];
}
__device__ __forceinline__ void store_from_float(void* base, ElementType type, long long i, float v) {
  if (type == ElementType::kBFloat16) static_cast<__nv_bfloat16*>(base)[i] = __float2bfloat16_rn(v);
  else static_cast<float*>(base)[i] = v;
}

/// torch's exact GELU (approximate='none') in fp32 opmath: x * 0.5 * (1 + erf(x * sqrt(1/2))).
__device__ __forceinline__ float gelu_exact(float x) {
  constexpr float kAlpha = static_cast<float>(M_SQRT1_2);
  return __fmul_rn(__fmul_rn(x, 0.5f), __fadd_rn(1.0f, erff(__fmul_rn(x, kAlpha))));
}

/// One 16-byte load of T (8 bf16 or 4 fp32) as floats; the address must be 16-byte aligned.
template <class T>
struct Pack16;
template <>
struct Pack16<__nv_bfloat16> {
  static constexpr int kSize = 8;
  __device__ static void load(const __nv_bfloat16* p, float* out) {
    const uint4 raw = *reinterpret_cast<const uint4*>(p);
    const auto* h = reinterpret_cast<const __nv_bfloat162*>(&raw);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const float2 f = __bfloat1622float2(h[k]);
      out[2 * k] = f.x;
      out[2 * k + 1] = f.y;
    }
  }
};
template <>
struct Pack16<float> {
  static constexpr int kSize = 4;
  __device__ static void load(const float* p, float* out) {
    const float4 raw = *reinterpret_cast<const float4*>(p);
    out[0] = raw.x;
    out[1] = raw.y;
    out[2] = raw.z;
    out[3] = raw.w;
  }
};

/// Stores V floats as Out at p: fp32 as 16-byte stores (V % 4 == 0), bf16 as one 16- (V = 8) or 8-byte (V = 4)
/// store; p aligned to that size.
template <class Out, int V>
__device__ __forceinline__ void store_pack(Out* p, const float* v) {
  if constexpr (sizeof(Out) == 4) {
#pragma unroll
    for (int k = 0; k < V; k += 4) *reinterpret_cast<float4*>(p + k) = make_float4(v[k], v[k + 1], v[k + 2], v[k + 3]);
  } else {
    struct alignas(sizeof(Out) * V) Packed {
      Out v[V];
    } packed;
#pragma unroll
    for (int k = 0; k < V; ++k) packed.v[k] = from_float<Out>(v[k]);
    *reinterpret_cast<Packed*>(p) = packed;
  }
}

/// v as a tensor of T would store it.
template <class T>
__device__ __forceinline__ float round_as(float v) {
  if constexpr (sizeof(T) == 2) return round_bf16(v);
  return v;
}

/// torch's bilinear source index (upsample_bilinear2d, align_corners=False): src = ratio*(dst+0.5) - 0.5
/// with ratio = 1/scale_factor, clamped at 0; the second neighbour clamps at the edge.
struct BilinearTap {
  int i0, i1;              // the two source indices
  float lambda0, lambda1;  // their weights (1 - frac, frac)
};
__device__ __forceinline__ BilinearTap bilinear_tap(int dst, float ratio, int in_size) {
  float src = ratio * (static_cast<float>(dst) + 0.5f) - 0.5f;
  if (src < 0.0f) src = 0.0f;
  const int i0 = static_cast<int>(src);
  const int i1 = i0 + (i0 < in_size - 1 ? 1 : 0);
  const float frac = src - static_cast<float>(i0);
  return {i0, i1, 1.0f - frac, frac};
}

/// wa*a + wb*b per lane: one bilinear step, as the head's upsample kernels evaluate it.
__device__ __forceinline__ float4 lerp(float4 a, float4 b, float wa, float wb) {
  return make_float4(wa * a.x + wb * b.x, wa * a.y + wb * b.y, wa * a.z + wb * b.z, wa * a.w + wb * b.w);
}

/// Bilinear 2x upsample (align_corners=False) of one 4-channel quad of a channels_last map viewed as
/// float4 [h][w][quads], at the output pixel whose source taps are ty, tx.
__device__ __forceinline__ float4 upsample2x_quad(const float4* image, int w, int quads, int q, const BilinearTap& ty,
                                                  const BilinearTap& tx) {
  const auto at = [&](int yy, int xx) { return image[(static_cast<long long>(yy) * w + xx) * quads + q]; };
  // torch: h0lambda * (w0lambda * v00 + w1lambda * v01) + h1lambda * (w0lambda * v10 + w1lambda * v11)
  const float4 top = lerp(at(ty.i0, tx.i0), at(ty.i0, tx.i1), tx.lambda0, tx.lambda1);
  const float4 bottom = lerp(at(ty.i1, tx.i0), at(ty.i1, tx.i1), tx.lambda0, tx.lambda1);
  return lerp(top, bottom, ty.lambda0, ty.lambda1);
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

/// warp_sum of two values at once (their shuffle chains interleave); each result is bit-equal to warp_sum's.
__device__ __forceinline__ void warp_sum2(float& a, float& b) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) {
    const float a_other = __shfl_xor_sync(0xffffffffu, a, offset);
    const float b_other = __shfl_xor_sync(0xffffffffu, b, offset);
    a += a_other;
    b += b_other;
  }
}

}  // namespace peaknet::model::cuda
