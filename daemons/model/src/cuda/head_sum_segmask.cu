// Head sum + segmask conv: one warp per output pixel, each lane four channels at a time. The three
// 2x upsamples (+ sums) and the sum with the finest branch used to write and re-read a full-resolution
// fp32 map four times, and the 1x1 conv read it once more; here only the branch maps are read.
#include "head_sum_segmask.cuh"

#include <algorithm>

#include "device_math.cuh"

namespace peaknet::model::cuda {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;

struct CoarseMaps {
  const float4* map[kHeadMaxCoarse];
};

__global__ void __launch_bounds__(kThreads)
    head_sum_segmask_kernel(const float4* __restrict__ finest, CoarseMaps coarse, int coarse_count, int64_t batch,
                            int height, int width, int quads, int classes, const __nv_bfloat16* __restrict__ weight,
                            const __nv_bfloat16* __restrict__ bias, __nv_bfloat16* __restrict__ logits) {
  extern __shared__ float w_shared[];  // [classes][C] as fp32
  const int channels = 4 * quads;
  for (int i = threadIdx.x; i < classes * channels; i += kThreads) w_shared[i] = __bfloat162float(weight[i]);
  __syncthreads();
  const int lane = threadIdx.x % 32;
  const int in_h = height / 2, in_w = width / 2;
  const int64_t pixels = batch * height * width;
  for (int64_t p = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32; p < pixels;
       p += static_cast<int64_t>(gridDim.x) * kWarps) {
    const int x = static_cast<int>(p % width);
    const int64_t row = p / width;
    const int y = static_cast<int>(row % height);
    const int64_t n = row / height;
    const BilinearTap ty = bilinear_tap(y, 0.5f, in_h), tx = bilinear_tap(x, 0.5f, in_w);
    float dot[kHeadMaxClasses] = {};
    for (int q = lane; q < quads; q += 32) {
      float4 s = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll
      for (int b = 0; b < kHeadMaxCoarse; ++b) {  // unrolled: the map pointers stay in registers
        if (b >= coarse_count) break;
        const float4 up = upsample2x_quad(coarse.map[b] + n * in_h * in_w * quads, in_w, quads, q, ty, tx);
        s = b == 0
                ? up
                : make_float4(__fadd_rn(s.x, up.x), __fadd_rn(s.y, up.y), __fadd_rn(s.z, up.z), __fadd_rn(s.w, up.w));
      }
      const float4 f = finest[p * quads + q];
      s = coarse_count == 0
              ? f
              : make_float4(__fadd_rn(s.x, f.x), __fadd_rn(s.y, f.y), __fadd_rn(s.z, f.z), __fadd_rn(s.w, f.w));
      const float v[4] = {round_bf16(s.x), round_bf16(s.y), round_bf16(s.z), round_bf16(s.w)};  // conv input cast
#pragma unroll
      for (int k = 0; k < kHeadMaxClasses; ++k) {
        if (k >= classes) break;
        const float* w = w_shared + k * channels + 4 * q;
#pragma unroll
        for (int j = 0; j < 4; ++j) dot[k] = fmaf(w[j], v[j], dot[k]);
      }
    }
#pragma unroll
    for (int k = 0; k < kHeadMaxClasses; ++k) {
      if (k >= classes) break;
      const float total = warp_sum(dot[k]);
      if (lane == 0) {
        const float b = bias != nullptr ? __bfloat162float(bias[k]) : 0.0f;
        logits[p * classes + k] = __float2bfloat16_rn(__fadd_rn(round_bf16(total), b));
      }
    }
  }
}

}  // namespace

cudaError_t launch_head_sum_segmask(const float* finest, const float* const* coarse, const HeadSumSegmaskShape& s,
                                    const __nv_bfloat16* weight, const __nv_bfloat16* bias, __nv_bfloat16* logits,
                                    cudaStream_t stream) {
  if (s.batch < 1 || s.height < 2 || s.width < 2 || s.height % 2 != 0 || s.width % 2 != 0 || s.channels < 4 ||
      s.channels % 4 != 0 || s.channels > kHeadMaxChannels || s.classes < 1 || s.classes > kHeadMaxClasses ||
      s.coarse < 0 || s.coarse > kHeadMaxCoarse || !aligned16(finest))
    return cudaErrorInvalidValue;
  CoarseMaps maps{};
  for (int b = 0; b < s.coarse; ++b) {
    if (!aligned16(coarse[b])) return cudaErrorInvalidValue;
    maps.map[b] = reinterpret_cast<const float4*>(coarse[b]);
  }
  const int64_t pixels = s.batch * s.height * s.width;
  const int blocks = static_cast<int>(std::clamp<int64_t>((pixels + kWarps - 1) / kWarps, 1, 132 * 16));
  const size_t shared = static_cast<size_t>(s.classes) * s.channels * sizeof(float);
  head_sum_segmask_kernel<<<blocks, kThreads, shared, stream>>>(
      reinterpret_cast<const float4*>(finest), maps, s.coarse, s.batch, static_cast<int>(s.height),
      static_cast<int>(s.width), static_cast<int>(s.channels / 4), s.classes, weight, bias, logits);
  return cudaGetLastError();
}

}  // namespace peaknet::model::cuda
