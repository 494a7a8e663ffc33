#pragma once
// Raw CUDA launchers behind fused_head_learned_upsample (torch-free): the closing chain of a learned-upsample
// head (PeakNet-673M) — upsample the coarse branches 2x and sum them with the finest branch (fp32), cast to
// bf16, then both the segmask 1x1 conv (bilinear 4x to full resolution) and the ConvTranspose2d(k6, s4, p1)
// learned upsample, added. Two launches: per stride-4 pixel the K segmask logits and the K*36 transposed-conv
// taps (fp32), then per output pixel the gather of its <= 4 taps per class plus the bilinear logits.
#include <cstddef>
#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace peaknet::model::cuda {

constexpr int kLearnedHeadClasses = 2;          // PeakNet's num_classes (the kernels are written for it)
constexpr int kLearnedHeadKernel = 6;           // ConvTranspose2d kernel, stride 4, padding 1: output = 4x input
constexpr int kLearnedHeadTaps = kLearnedHeadKernel * kLearnedHeadKernel;
constexpr int kLearnedHeadOutputs = kLearnedHeadClasses * (1 + kLearnedHeadTaps);  // per stride-4 pixel: 74
constexpr int kLearnedHeadMaxCoarse = 3;
constexpr int64_t kLearnedHeadMaxChannels = 1024;

struct LearnedHeadShape {
  int64_t batch = 0, height = 0, width = 0, channels = 0;  // the finest branch (N, H, W, C), stride 4
  int coarse = 0;                                          // coarse branches, each (N, H/2, W/2, C)
};

/// Shared memory the first launch needs at `channels` (the weights as bf16, kLearnedHeadOutputs x C).
size_t learned_head_shared_bytes(int64_t channels);

/// Launch 1. sum = ((up(coarse[0]) + up(coarse[1])) + up(coarse[2])) + finest (fp32, in that order, as the head
/// accumulates), s = bf16(sum). weights: kLearnedHeadOutputs x C bf16, rows 0..K-1 the segmask conv (K, C),
/// then row K + k*36 + ky*6 + kx = the transposed conv's weight[:, k, ky, kx]. Writes per pixel (N, H, W, 74) fp32:
///   out[k]                  = bf16(bf16(sum_c w[k][c] s_c) + seg_bias[k])      (the 1x1 conv's bf16 output + bias)
///   out[K + k*36 + ky*6+kx] = sum_c w_up[c][k][ky][kx] s_c                       (fp32, no bias)
/// All maps channels_last fp32 and 16-byte aligned; C % 4 == 0; seg_bias K bf16 or null.
cudaError_t launch_learned_head_taps(const float* finest, const float* const* coarse, const LearnedHeadShape& shape,
                                     const __nv_bfloat16* weights, const __nv_bfloat16* seg_bias, float* taps,
                                     cudaStream_t stream);

/// Launch 2. For every output pixel (n, oy, ox) of (N, 4H, 4W) and class k:
///   up   = bf16(bilinear 4x (align_corners=False) of taps[..][k])      (upsample_bilinear2d in fp32, cast back)
///   conv = bf16(bf16(sum of the <= 4 taps that ConvTranspose2d(k6, s4, p1) sends to this pixel) + up_bias[k])
///   logits[n][oy][ox][k] = bf16(up + conv)
/// logits: (N, 4H, 4W, K) bf16 (an (N, K, 4H, 4W) channels_last tensor); up_bias K bf16 or null.
cudaError_t launch_learned_head_output(const float* taps, const LearnedHeadShape& shape,
                                       const __nv_bfloat16* up_bias, __nv_bfloat16* logits, cudaStream_t stream);

}  // namespace peaknet::model::cuda
