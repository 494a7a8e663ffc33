#pragma once
// Input checks the fused ops' *_supports() share (torch only, no CUDA headers: they compile in every
// build, where a CPU tensor simply fails them).
#include <torch/torch.h>

#include <cstdint>

namespace peaknet::model {

inline bool float_or_bf16(const torch::Tensor& t) {
  return t.scalar_type() == torch::kFloat || t.scalar_type() == torch::kBFloat16;
}

/// A non-empty 4-D CUDA tensor in channels_last memory whose data starts on a 16-byte boundary (the
/// kernels' vector loads and stores).
inline bool aligned_channels_last_cuda(const torch::Tensor& t) {
  return t.defined() && t.is_cuda() && t.dim() == 4 && t.numel() > 0 &&
         t.is_contiguous(at::MemoryFormat::ChannelsLast) && reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0;
}

inline bool fp32_channels_last(const torch::Tensor& t) {
  return aligned_channels_last_cuda(t) && t.scalar_type() == torch::kFloat;
}

}  // namespace peaknet::model
