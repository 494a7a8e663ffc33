#pragma once
// Raw CUDA launcher behind fused_stem_conv4x4_layernorm (torch-free): the backbone's stem — the 4x4 stride-4
// patch conv of the one-channel input — and the embeddings LayerNorm over its channels.
#include <cstdint>

#include <cuda_runtime.h>

#include "element_type.hpp"

namespace peaknet::model::cuda {

struct StemShape {
  int64_t batch = 0, height = 0, width = 0, channels = 0;  // input height/width (multiples of 4), output C
};

/// Widest C the kernel takes (a lane keeps 4 channels' weights in registers).
constexpr int64_t kStemMaxChannels = 128;

/// x: (N,1,H,W) contiguous of x_type; weight: C*16 fp32 holding the bf16 (C,1,4,4) weights; bias: C fp32 holding
/// bf16 values, or null; ln_weight/ln_bias: C fp32. For each output pixel (N, H/4, W/4):
///   conv_c = bf16(bf16(sum_k w_ck * bf16(x_k)) + bias_c)     (cuDNN's bf16 conv, then the bias add)
///   y_c    = (conv_c - mean) * rsqrt(var + eps) * ln_weight_c + ln_bias_c   in fp32, two-pass statistics,
/// stored fp32 as (N, H/4, W/4, C): the stage-0 residual stream.
cudaError_t launch_stem_conv4x4_layernorm(const void* x, ElementType x_type, const float* weight, const float* bias,
                                          const float* ln_weight, const float* ln_bias, float eps,
                                          const StemShape& shape, float* y, cudaStream_t stream);

}  // namespace peaknet::model::cuda
