#pragma once
// Two-pass LayerNorm statistics of two pixels at once, as the fused kernels normalise a pixel per warp: lane
// l holds channels l, l+32, ... (v[i][k] is channel l + 32k of pixel i; only c < channels count). The two
// pixels' shuffle reductions interleave; each pixel's sums run in lane order, then the xor tree (warp_sum2).
#include "device_math.cuh"

namespace peaknet::model::cuda {

template <int K>
__device__ __forceinline__ void pair_layernorm_moments(const float (&v)[2][K], int lane, int channels, float eps,
                                                       float (&mean)[2], float (&rstd)[2]) {
  const float inv_c = 1.0f / static_cast<float>(channels);
  float sum[2] = {0.0f, 0.0f}, sq[2] = {0.0f, 0.0f};
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int k = 0; k < K; ++k)
      if (lane + 32 * k < channels) sum[i] += v[i][k];
  warp_sum2(sum[0], sum[1]);
  mean[0] = sum[0] * inv_c, mean[1] = sum[1] * inv_c;
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const float d = v[i][k] - mean[i];
      if (lane + 32 * k < channels) sq[i] = fmaf(d, d, sq[i]);
    }
  warp_sum2(sq[0], sq[1]);
  rstd[0] = rsqrtf(sq[0] * inv_c + eps), rstd[1] = rsqrtf(sq[1] * inv_c + eps);
}

}  // namespace peaknet::model::cuda
