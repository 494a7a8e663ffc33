#pragma once
// Raw CUDA launcher behind fused_bifpn_fusion.hpp (torch-free): one BiFPN node's input — the bilinear
// resample of the neighbouring level, the weighted fusion with the same-level maps, and the conv unit's
// depthwise 1x1 scale — in one pass over channels_last maps.
#include <cstdint>

#include <cuda_runtime.h>

#include "element_type.hpp"

namespace peaknet::model::cuda {

struct BifpnFusionArgs {
  int64_t batch = 0, height = 0, width = 0, channels = 0;  // the output (and same-level inputs) shape

  int same_count = 0;  // 1 (top-down: a) or 2 (bottom-up: p_low, m_low)
  const void* same[2] = {nullptr, nullptr};
  ElementType same_type[2] = {ElementType::kFloat32, ElementType::kFloat32};

  const void* other = nullptr;  // the neighbouring level, resampled bilinearly to (height, width)
  ElementType other_type = ElementType::kFloat32;
  int64_t other_height = 0, other_width = 0;
  float source_per_output = 1.0f;  // torch's bilinear scale: 1/scale_factor (0.5: 2x up, 2.0: 2x down)

  const float* weights = nullptr;  // same_count + 1 fusion weights on the device (already ReLU'd)
  float eps = 1e-5f;

  const void* depthwise = nullptr;  // C values of out_type: the conv unit's depthwise 1x1 weight
  ElementType out_type = ElementType::kBFloat16;
  void* y = nullptr;  // (N,H,W,C) of out_type
};

/// y = to(out_type)((sum_i w_i*same_i + w_last*resample(other)) / (sum_i w_i + eps)) * depthwise[c],
/// each op rounded to the dtype the unfused torch op would produce (0-d weights take the tensor's dtype).
cudaError_t launch_bifpn_fusion(const BifpnFusionArgs& args, cudaStream_t stream);

}  // namespace peaknet::model::cuda
