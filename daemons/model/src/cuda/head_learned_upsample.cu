// Learned-upsample head end (PeakNet-673M). The unfused path cast the fp32 stride-4 sum to bf16 twice (once per
// conv), ran the segmask 1x1 conv, a bilinear 4x upsample, cuDNN's ConvTranspose2d with two output channels and
// a full-resolution add. Here the branch maps are read once: launch 1 gives each stride-4 pixel its 2 segmask
// logits and its 2x36 transposed-conv taps (one warp per pixel, lanes over channels, weights in shared memory),
// launch 2 gathers for each full-resolution pixel its <= 4 taps per class and the bilinear logits.
#include "head_learned_upsample.cuh"

#include <algorithm>

#include "device_math.cuh"

namespace peaknet::model::cuda {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int K = kLearnedHeadClasses;
constexpr int kOut = kLearnedHeadOutputs;

struct CoarseMaps {
  const float4* map[kLearnedHeadMaxCoarse];
};

__global__ void __launch_bounds__(kThreads)
    learned_head_taps_kernel(const float4* __restrict__ finest, CoarseMaps coarse, int coarse_count, int64_t batch,
                             int height, int width, int quads, const __nv_bfloat16* __restrict__ weights,
                             const __nv_bfloat16* __restrict__ seg_bias, float* __restrict__ taps) {
  extern __shared__ __align__(16) __nv_bfloat16 w_shared[];  // [kOut][C]
  const int channels = 4 * quads;
  for (int i = threadIdx.x; i < kOut * channels; i += kThreads) w_shared[i] = weights[i];
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
    float dot[kOut];
#pragma unroll
    for (int o = 0; o < kOut; ++o) dot[o] = 0.0f;
    for (int q = lane; q < quads; q += 32) {
      float4 s = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll
      for (int b = 0; b < kLearnedHeadMaxCoarse; ++b) {  // unrolled: the map pointers stay in registers
        if (b >= coarse_count) break;
        const float4 up = upsample2x_quad(coarse.map[b] + n * in_h * in_w * quads, in_w, quads, q, ty, tx);
        s = b == 0 ? up : make_float4(__fadd_rn(s.x, up.x), __fadd_rn(s.y, up.y), __fadd_rn(s.z, up.z),
                                      __fadd_rn(s.w, up.w));
      }
      const float4 f = finest[p * quads + q];
      s = coarse_count == 0 ? f
                            : make_float4(__fadd_rn(s.x, f.x), __fadd_rn(s.y, f.y), __fadd_rn(s.z, f.z),
                                          __fadd_rn(s.w, f.w));
      const float v[4] = {round_bf16(s.x), round_bf16(s.y), round_bf16(s.z), round_bf16(s.w)};  // the convs' input cast
#pragma unroll
      for (int o = 0; o < kOut; ++o) {
        // 4 bf16 weights of row o at channels 4q..4q+3: one 8-byte shared load (consecutive lanes, no conflicts).
        const uint2 raw = *reinterpret_cast<const uint2*>(w_shared + o * channels + 4 * q);
        const float2 w01 = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&raw.x));
        const float2 w23 = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&raw.y));
        dot[o] = fmaf(w01.x, v[0], dot[o]);
        dot[o] = fmaf(w01.y, v[1], dot[o]);
        dot[o] = fmaf(w23.x, v[2], dot[o]);
        dot[o] = fmaf(w23.y, v[3], dot[o]);
      }
    }
    // Every lane ends with every total (xor tree); lane l keeps outputs l, l+32, l+64 and stores them coalesced.
    float mine[(kOut + 31) / 32] = {};
#pragma unroll
    for (int o = 0; o < kOut; ++o) {
      float total = warp_sum(dot[o]);
      if (o < K) total = round_bf16(__fadd_rn(round_bf16(total), seg_bias != nullptr ? __bfloat162float(seg_bias[o]) : 0.0f));
      if ((o & 31) == lane) mine[o / 32] = total;
    }
    float* out = taps + p * kOut;
#pragma unroll
    for (int j = 0; j < (kOut + 31) / 32; ++j)
      if (lane + 32 * j < kOut) out[lane + 32 * j] = mine[j];
  }
}

// The input rows (columns) a ConvTranspose2d(k6, s4, p1) output row (column) `o` reads, with their kernel taps:
// o = 4 * i - 1 + k, 0 <= k < 6, 0 <= i < in.
struct TransposedTaps {
  int count;
  int in[2], tap[2];
};
__device__ __forceinline__ TransposedTaps transposed_taps(int o, int in_size) {
  TransposedTaps t{0, {0, 0}, {0, 0}};
  const int i0 = (o + 1) >> 2, k0 = (o + 1) & 3;
  if (i0 < in_size) t.in[t.count] = i0, t.tap[t.count++] = k0;
  if (k0 + 4 < kLearnedHeadKernel && i0 >= 1) t.in[t.count] = i0 - 1, t.tap[t.count++] = k0 + 4;
  return t;
}

__global__ void __launch_bounds__(kThreads)
    learned_head_output_kernel(const float* __restrict__ taps, int64_t batch, int in_h, int in_w,
                               const __nv_bfloat16* __restrict__ up_bias, __nv_bfloat16* __restrict__ logits) {
  const int out_h = 4 * in_h, out_w = 4 * in_w;
  const int64_t total = batch * out_h * out_w;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t p = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; p < total; p += stride) {
    const int ox = static_cast<int>(p % out_w);
    const int64_t row = p / out_w;
    const int oy = static_cast<int>(row % out_h);
    const int64_t n = row / out_h;
    const float* image = taps + n * in_h * in_w * kOut;
    const auto at = [&](int yy, int xx, int o) { return image[(static_cast<int64_t>(yy) * in_w + xx) * kOut + o]; };
    const BilinearTap ty = bilinear_tap(oy, 0.25f, in_h), tx = bilinear_tap(ox, 0.25f, in_w);
    const TransposedTaps cy = transposed_taps(oy, in_h), cx = transposed_taps(ox, in_w);
    float result[K];
#pragma unroll
    for (int k = 0; k < K; ++k) {
      // torch: h0lambda * (w0lambda * v00 + w1lambda * v01) + h1lambda * (w0lambda * v10 + w1lambda * v11)
      const float top = tx.lambda0 * at(ty.i0, tx.i0, k) + tx.lambda1 * at(ty.i0, tx.i1, k);
      const float bottom = tx.lambda0 * at(ty.i1, tx.i0, k) + tx.lambda1 * at(ty.i1, tx.i1, k);
      const float up = round_bf16(ty.lambda0 * top + ty.lambda1 * bottom);
      float conv = 0.0f;
      for (int a = 0; a < cy.count; ++a)
        for (int b = 0; b < cx.count; ++b)
          conv += at(cy.in[a], cx.in[b], K + k * kLearnedHeadTaps + cy.tap[a] * kLearnedHeadKernel + cx.tap[b]);
      const float bias = up_bias != nullptr ? __bfloat162float(up_bias[k]) : 0.0f;
      conv = round_bf16(__fadd_rn(round_bf16(conv), bias));
      result[k] = __fadd_rn(up, conv);
    }
    __nv_bfloat162 pair = __floats2bfloat162_rn(result[0], result[1]);
    *reinterpret_cast<__nv_bfloat162*>(logits + p * K) = pair;
  }
}

}  // namespace

size_t learned_head_shared_bytes(int64_t channels) {
  return static_cast<size_t>(kOut) * static_cast<size_t>(channels) * sizeof(__nv_bfloat16);
}

cudaError_t launch_learned_head_taps(const float* finest, const float* const* coarse, const LearnedHeadShape& s,
                                     const __nv_bfloat16* weights, const __nv_bfloat16* seg_bias, float* taps,
                                     cudaStream_t stream) {
  if (s.batch < 1 || s.height < 2 || s.width < 2 || s.height % 2 != 0 || s.width % 2 != 0 || s.channels < 4 ||
      s.channels % 4 != 0 || s.channels > kLearnedHeadMaxChannels || s.coarse < 0 ||
      s.coarse > kLearnedHeadMaxCoarse || !aligned16(finest) || !aligned16(weights) || taps == nullptr)
    return cudaErrorInvalidValue;
  CoarseMaps maps{};
  for (int b = 0; b < s.coarse; ++b) {
    if (!aligned16(coarse[b])) return cudaErrorInvalidValue;
    maps.map[b] = reinterpret_cast<const float4*>(coarse[b]);
  }
  const size_t shared = learned_head_shared_bytes(s.channels);
  if (shared > 48 * 1024) {
    const cudaError_t status = cudaFuncSetAttribute(learned_head_taps_kernel,
                                                    cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared));
    if (status != cudaSuccess) return status;
  }
  const int64_t pixels = s.batch * s.height * s.width;
  const int blocks = static_cast<int>(std::clamp<int64_t>((pixels + kWarps - 1) / kWarps, 1, 132 * 16));
  learned_head_taps_kernel<<<blocks, kThreads, shared, stream>>>(
      reinterpret_cast<const float4*>(finest), maps, s.coarse, s.batch, static_cast<int>(s.height),
      static_cast<int>(s.width), static_cast<int>(s.channels / 4), weights, seg_bias, taps);
  return cudaGetLastError();
}

cudaError_t launch_learned_head_output(const float* taps, const LearnedHeadShape& s, const __nv_bfloat16* up_bias,
                                       __nv_bfloat16* logits, cudaStream_t stream) {
  if (s.batch < 1 || s.height < 1 || s.width < 1 || taps == nullptr || logits == nullptr ||
      reinterpret_cast<uintptr_t>(logits) % 4 != 0)
    return cudaErrorInvalidValue;
  const int64_t total = s.batch * 16 * s.height * s.width;
  const int blocks = static_cast<int>(std::clamp<int64_t>((total + kThreads - 1) / kThreads, 1, 132 * 32));
  learned_head_output_kernel<<<blocks, kThreads, 0, stream>>>(taps, s.batch, static_cast<int>(s.height),
                                                              static_cast<int>(s.width), up_bias, logits);
  return cudaGetLastError();
}

}  // namespace peaknet::model::cuda
