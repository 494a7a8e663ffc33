#pragma once
// Raw CUDA launcher behind fused_head_sum_segmask (torch-free): the segmentation head's closing chain —
// upsample the coarse branches 2x, sum them with the finest branch, cast to bf16, 1x1 conv to the class
// logits — in one pass, so the fp32 full-resolution sum never reaches HBM.
#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace peaknet::model::cuda {

constexpr int kHeadMaxCoarse = 3;   // BiFPN levels 1..3 end in a 2x upsample onto level 0
constexpr int kHeadMaxClasses = 4;  // logits per pixel kept in registers
constexpr int kHeadMaxChannels = 1024;

struct HeadSumSegmaskShape {
  int64_t batch = 0, height = 0, width = 0, channels = 0;  // the finest branch: (N, H, W, C)
  int coarse = 0;                                          // coarse branches, each (N, H/2, W/2, C)
  int classes = 0;                                         // K
};

/// sum = ((up(coarse[0]) + up(coarse[1])) + up(coarse[2])) + finest   (fp32, in this order: the head's
///        accumulation from the coarsest branch down), up = bilinear 2x, align_corners=False;
/// logits[n][y][x][k] = bf16(bf16(sum_c weight[k][c] * bf16(sum[c])) + bias[k])   (the 1x1 conv's input
///        cast, its bf16 output, then the bias add).
/// All maps channels_last fp32, 16-byte aligned, C % 4 == 0; weight K x C bf16; bias K bf16 or null;
/// logits (N, H, W, K) bf16. Anything else: cudaErrorInvalidValue.
cudaError_t launch_head_sum_segmask(const float* finest, const float* const* coarse, const HeadSumSegmaskShape& shape,
                                    const __nv_bfloat16* weight, const __nv_bfloat16* bias, __nv_bfloat16* logits,
                                    cudaStream_t stream);

}  // namespace peaknet::model::cuda
