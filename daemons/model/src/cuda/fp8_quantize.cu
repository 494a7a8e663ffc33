// Row-wise fp8 quantisation for the fp8 GEMMs (precision fp8): one warp per row, two passes over the row (its
// absolute maximum, then the scaled e4m3 values), the second re-reading the row from L1. 16-byte loads of 8
// bf16 values, 8-byte stores of 8 fp8 values.
#include "fp8_quantize.cuh"

#include <cuda_fp8.h>

#include "device_math.cuh"

namespace peaknet::model::cuda {
namespace {

constexpr int kWarps = 8;

template <bool kChannelScale>
__global__ void __launch_bounds__(kWarps * 32)
    fp8_rowwise_quantize_kernel(const __nv_bfloat16* __restrict__ x, int64_t rows, int cols,
                                const float* __restrict__ channel_scale, int64_t rows_per_image,
                                uint2* __restrict__ q, float* __restrict__ scale) {
  const int lane = threadIdx.x % 32;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (row >= rows) return;
  const __nv_bfloat16* in = x + row * cols;
  const float* factor = kChannelScale ? channel_scale + (row / rows_per_image) * cols : nullptr;
  const auto values = [&](int c0, float* v) {
    Pack16<__nv_bfloat16>::load(in + c0, v);
    if constexpr (kChannelScale) {
#pragma unroll
      for (int k = 0; k < 8; ++k) v[k] = __fmul_rn(v[k], factor[c0 + k]);
    }
  };
  float amax = 0.0f;
  for (int c0 = 8 * lane; c0 < cols; c0 += 8 * 32) {
    float v[8];
    values(c0, v);
#pragma unroll
    for (int k = 0; k < 8; ++k) amax = fmaxf(amax, fabsf(v[k]));
  }
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, offset));
  const float inverse = amax > 0.0f ? kFp8E4m3Max / amax : 0.0f;
  if (lane == 0) scale[row] = amax > 0.0f ? amax / kFp8E4m3Max : 1.0f;
  uint2* out = q + row * (cols / 8);
  for (int c0 = 8 * lane; c0 < cols; c0 += 8 * 32) {
    float v[8];
    values(c0, v);
    // One byte per value, element k at byte k of the little-endian 8-byte store (explicit packing: no reliance on
    // the lane order of a packed conversion).
    uint32_t word[2] = {0u, 0u};
#pragma unroll
    for (int k = 0; k < 8; ++k) {
      const __nv_fp8_storage_t b = __nv_cvt_float_to_fp8(v[k] * inverse, __NV_SATFINITE, __NV_E4M3);
      word[k / 4] |= static_cast<uint32_t>(b) << (8 * (k % 4));
    }
    out[c0 / 8] = make_uint2(word[0], word[1]);
  }
}

}  // namespace

cudaError_t launch_fp8_rowwise_quantize(const Fp8QuantizeArgs& a, cudaStream_t stream) {
  if (a.x == nullptr || a.q == nullptr || a.scale == nullptr || a.rows < 0 || a.cols < 16 || a.cols % 16 != 0 ||
      a.cols > (int64_t{1} << 30) || !aligned16(a.x) || !aligned16(a.q) ||
      (a.channel_scale != nullptr && (a.rows_per_image < 1 || a.rows % a.rows_per_image != 0)))
    return cudaErrorInvalidValue;
  if (a.rows == 0) return cudaSuccess;
  const int64_t blocks = (a.rows + kWarps - 1) / kWarps;
  if (blocks > 0x7FFFFFFF) return cudaErrorInvalidValue;
  const auto* x = static_cast<const __nv_bfloat16*>(a.x);
  auto* q = static_cast<uint2*>(a.q);
  const int cols = static_cast<int>(a.cols);
  if (a.channel_scale != nullptr)
    fp8_rowwise_quantize_kernel<true><<<static_cast<unsigned>(blocks), kWarps * 32, 0, stream>>>(
        x, a.rows, cols, a.channel_scale, a.rows_per_image, q, a.scale);
  else
    fp8_rowwise_quantize_kernel<false><<<static_cast<unsigned>(blocks), kWarps * 32, 0, stream>>>(
        x, a.rows, cols, nullptr, 1, q, a.scale);
  return cudaGetLastError();
}

}  // namespace peaknet::model::cuda
