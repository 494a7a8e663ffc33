#pragma once
// Raw CUDA launcher behind fused_layernorm.hpp (torch-free): LayerNorm over the contiguous last dim of
// a row-major (rows, C) tensor — a channels_last activation map — with optional GELU and residual add in
// the same pass.
#include <cstdint>

#include <cuda_runtime.h>

#include "element_type.hpp"

namespace peaknet::model::cuda {

/// Largest C one warp normalises from registers.
constexpr int64_t kLayerNormRowsMaxChannels = 1024;

struct LayerNormRowsArgs {
  const void* x = nullptr;
  ElementType x_type = ElementType::kFloat32;
  int64_t rows = 0, channels = 0;
  const float* weight = nullptr;  // C fp32
  const float* bias = nullptr;    // C fp32
  float eps = 1e-6f;
  bool gelu = false;               // out = GELU(normed) (exact erf form, fp32)
  const void* residual = nullptr;  // optional (rows, C): out = out + residual (fp32 arithmetic)
  ElementType residual_type = ElementType::kFloat32;
  void* y = nullptr;  // (rows, C) of y_type
  ElementType y_type = ElementType::kFloat32;
};

/// y = [GELU]((x - mean) * rsqrt(var + eps) * weight + bias) [+ residual], fp32 arithmetic, mean and
/// (biased) variance over each row of C; stored as y_type.
cudaError_t launch_layernorm_rows(const LayerNormRowsArgs& args, cudaStream_t stream);

}  // namespace peaknet::model::cuda
