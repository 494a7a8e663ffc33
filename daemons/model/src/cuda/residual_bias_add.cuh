#pragma once
// Raw CUDA launcher behind fused_residual_bias_add (torch-free): the ConvNeXt layer's closing
// "residual + (projection + bias)" in one pass, for the GRN-folded pwconv2 whose batched GEMM has no
// bias epilogue. All three maps share one (N,H,W,C) contiguous layout (channels_last).
#include <cstdint>

#include <cuda_runtime.h>

#include "element_type.hpp"

namespace peaknet::model::cuda {

struct ResidualBiasAddShape {
  int64_t elements = 0;  // N*H*W*C
  int64_t channels = 0;  // C: bias index = element % C
};

/// y = residual + (x + bias[c]) in fp32, stored as out_type. residual/x/y: fp32 or bf16, 16-byte aligned
/// (else cudaErrorInvalidValue); bias: C fp32 values; C % 4 == 0.
cudaError_t launch_residual_bias_add(const void* residual, ElementType residual_type, const void* x, ElementType x_type,
                                     const float* bias, const ResidualBiasAddShape& shape, void* y,
                                     ElementType out_type, cudaStream_t stream);

}  // namespace peaknet::model::cuda
