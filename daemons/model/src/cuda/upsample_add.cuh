#pragma once
// Raw CUDA launcher behind fused_upsample2x_add (torch-free): bilinear 2x upsampling of a channels_last
// fp32 map (align_corners=False), optionally added to an accumulator of the output size — the head's
// "upsample the lateral branch, then add it to the running sum" in one pass.
#include <cstdint>

#include <cuda_runtime.h>

namespace peaknet::model::cuda {

struct UpsampleAddShape {
  int64_t batch = 0, channels = 0, in_height = 0, in_width = 0;  // output is (2*in_height, 2*in_width)
};

/// y = [acc +] upsample2x(x), all fp32 (N,H,W,C) contiguous; acc may be null; C % 4 == 0.
cudaError_t launch_upsample2x_add(const float* x, const float* acc, const UpsampleAddShape& shape, float* y,
                                  cudaStream_t stream);

}  // namespace peaknet::model::cuda
