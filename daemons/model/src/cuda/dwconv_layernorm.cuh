#pragma once
// Raw CUDA launcher behind fused_dwconv_layernorm.hpp (torch-free): a ConvNeXt layer's depthwise 7x7
// convolution followed by its LayerNorm over channels, on channels_last data.
#include <cstdint>

#include <cuda_runtime.h>

#include "element_type.hpp"

namespace peaknet::model::cuda {

struct DwconvLayerNormShape {
  int64_t batch = 0, height = 0, width = 0, channels = 0;
};

/// Largest channel count the kernel takes (one block keeps a tile's conv outputs for every channel in
/// shared memory).
constexpr int64_t kDwconvLayerNormMaxChannels = 2048;

/// x: (N,H,W,C) of x_type (cast to bf16 first: the conv's input cast); weight: 49*C fp32 holding the bf16 weights,
/// tap-major (the (C,1,7,7) depthwise kernel transposed to (7,7,C)); bias: C bf16 or null; ln_weight/ln_bias: C fp32.
/// Computes
///   conv = bf16(bf16(sum_k w*x) + bias)   (zero padding 3; cuDNN's output then the bias add)
///   y    = (conv - mean_c) * rsqrt(var_c + eps) * ln_weight + ln_bias   in fp32,
/// stored as y_type in (N,H,W,C).
cudaError_t launch_dwconv7_layernorm(const void* x, ElementType x_type, const void* weight, const void* bias,
                                     const float* ln_weight, const float* ln_bias, float eps,
                                     const DwconvLayerNormShape& shape, void* y, ElementType y_type,
                                     cudaStream_t stream);

}  // namespace peaknet::model::cuda
