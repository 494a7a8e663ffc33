#pragma once
// Tensor steps shared by the CPU and CUDA backends (torch ops run on whatever device/stream is current,
// so the same code is the GPU preprocessing and the CPU preprocessing: one definition of the semantics).
#include <cstdint>

#include <torch/torch.h>

#include "inferd/batch.hpp"
#include "shm/event_layout.hpp"

namespace peaknet::inferd {

/// Bottom/right zero padding that makes H and W multiples of `multiple`.
struct Padding {
  uint32_t bottom = 0;
  uint32_t right = 0;
};
Padding padding_for(uint32_t height, uint32_t width, uint32_t multiple);

/// Views `bytes` (B * payload_bytes, uint8, contiguous) as (B, C, H, W) of the frame dtype and
/// converts it to float32 (unsigned 16/32-bit types are widened exactly; torch 1.13 has no uint16).
torch::Tensor frames_to_float(const torch::Tensor& bytes, const FrameShape& shape, int64_t batch);

/// (B, C, H, W) float -> model input (B*C, 1, H+pad.bottom, W+pad.right) float: zero padding, then
/// optionally per image (x - mean) / sqrt(var + 1e-6) over the padded image (biased variance).
torch::Tensor make_model_input(const torch::Tensor& frames, Padding pad, bool instance_norm);

/// Model logits (B*C, 2, Hp, Wp), any float dtype -> float32 contiguous (B, C, 2, H, W): the padding
/// is cropped away so peaks never come from padded pixels and coordinates stay those of the stored
/// frame.
torch::Tensor crop_logits(const torch::Tensor& logits, const FrameShape& shape, int64_t batch);

}  // namespace peaknet::inferd
