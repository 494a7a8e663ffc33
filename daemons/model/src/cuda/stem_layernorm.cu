// Fused stem: 4x4 stride-4 patch conv of the one-channel detector image -> LayerNorm over the channels,
// written once as the fp32 stage-0 residual stream. cuDNN ran this conv at ~400 GB/s (a C=1 input leaves it
// in NCHW), then a bf16 channels_last copy and the LayerNorm read the map again; here one warp owns a pixel:
// every lane reads the 16 patch values (an L1 broadcast), convolves its channels (c = lane, lane+32, ...:
// weights in registers) and the warp normalises them. Two pixels per step interleave the reductions.
#include "stem_layernorm.cuh"

#include "device_math.cuh"
#include "layernorm_pair.cuh"

namespace peaknet::model::cuda {
namespace {

constexpr int kPatch = 4;
constexpr int kTaps = kPatch * kPatch;
constexpr int kPerLane = static_cast<int>(kStemMaxChannels / 32);
constexpr int kThreads = 256;

/// The 16 values of a 4x4 patch, rounded to bf16 (the conv's input cast); row r at x + r * width.
template <class In>
__device__ __forceinline__ void load_patch(const In* x, int width, float* v) {
#pragma unroll
  for (int r = 0; r < kPatch; ++r) {
    float row[4];
    if constexpr (sizeof(In) == 4) {
      const float4 raw = *reinterpret_cast<const float4*>(x + static_cast<long long>(r) * width);
      row[0] = raw.x, row[1] = raw.y, row[2] = raw.z, row[3] = raw.w;
    } else {
      const uint2 raw = *reinterpret_cast<const uint2*>(x + static_cast<long long>(r) * width);
      const float2 a = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&raw.x));
      const float2 b = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&raw.y));
      row[0] = a.x, row[1] = a.y, row[2] = b.x, row[3] = b.y;
    }
#pragma unroll
    for (int c = 0; c < kPatch; ++c) v[r * kPatch + c] = round_bf16(row[c]);
  }
}

template <class In>
__global__ void __launch_bounds__(kThreads)
    stem_conv4x4_layernorm_kernel(const In* __restrict__ x, const float* __restrict__ weight,
                                  const float* __restrict__ bias, const float* __restrict__ ln_weight,
                                  const float* __restrict__ ln_bias, float eps, int height, int width, int channels,
                                  long long pixels, float* __restrict__ y) {
  const int lane = threadIdx.x % 32;
  float w[kPerLane][kTaps], b[kPerLane], g[kPerLane], beta[kPerLane];
#pragma unroll
  for (int k = 0; k < kPerLane; ++k) {
    const int c = lane + 32 * k;
    const bool in = c < channels;
#pragma unroll
    for (int t = 0; t < kTaps; ++t) w[k][t] = in ? weight[c * kTaps + t] : 0.0f;
    b[k] = in && bias != nullptr ? bias[c] : 0.0f;
    g[k] = in ? ln_weight[c] : 0.0f;
    beta[k] = in ? ln_bias[c] : 0.0f;
  }
  const int out_h = height / kPatch, out_w = width / kPatch;
  const long long warps = static_cast<long long>(gridDim.x) * (kThreads / 32);
  // Pixel pairs (p, p + warps): a warp's two reductions interleave.
  for (long long p0 = static_cast<long long>(blockIdx.x) * (kThreads / 32) + threadIdx.x / 32; p0 < pixels;
       p0 += 2 * warps) {
    const long long p[2] = {p0, p0 + warps};
    float v[2][kPerLane];
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const long long pi = p[i] < pixels ? p[i] : p0;  // a missing partner recomputes p0, stores nothing
      const long long n = pi / (static_cast<long long>(out_h) * out_w);
      const int rest = static_cast<int>(pi - n * out_h * out_w), oy = rest / out_w, ox = rest % out_w;
      float patch[kTaps];
      load_patch(x + (n * height + static_cast<long long>(oy) * kPatch) * width + ox * kPatch, width, patch);
#pragma unroll
      for (int k = 0; k < kPerLane; ++k) {
        float acc = 0.0f;
#pragma unroll
        for (int t = 0; t < kTaps; ++t) acc = fmaf(w[k][t], patch[t], acc);
        v[i][k] = round_bf16(round_bf16(acc) + b[k]);
      }
    }
    float mean[2], rstd[2];
    pair_layernorm_moments(v, lane, channels, eps, mean, rstd);
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      if (p[i] >= pixels) continue;
      float* out = y + p[i] * channels;
#pragma unroll
      for (int k = 0; k < kPerLane; ++k) {
        const int c = lane + 32 * k;
        if (c < channels) out[c] = (v[i][k] - mean[i]) * rstd[i] * g[k] + beta[k];
      }
    }
  }
}

template <class In>
cudaError_t launch_typed(const void* x, const float* weight, const float* bias, const float* ln_weight,
                         const float* ln_bias, float eps, const StemShape& s, float* y, cudaStream_t stream) {
  const long long pixels = s.batch * (s.height / kPatch) * (s.width / kPatch);
  int device = 0, sms = 0;
  cudaError_t status = cudaGetDevice(&device);
  if (status == cudaSuccess) status = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  if (status != cudaSuccess) return status;
  const long long blocks_needed = (pixels + kThreads / 32 - 1) / (kThreads / 32);
  const unsigned blocks = static_cast<unsigned>(blocks_needed < 8LL * sms ? blocks_needed : 8LL * sms);
  stem_conv4x4_layernorm_kernel<In><<<blocks, kThreads, 0, stream>>>(
      static_cast<const In*>(x), weight, bias, ln_weight, ln_bias, eps, static_cast<int>(s.height),
      static_cast<int>(s.width), static_cast<int>(s.channels), pixels, y);
  return cudaGetLastError();
}

}  // namespace

cudaError_t launch_stem_conv4x4_layernorm(const void* x, ElementType x_type, const float* weight, const float* bias,
                                          const float* ln_weight, const float* ln_bias, float eps,
                                          const StemShape& shape, float* y, cudaStream_t stream) {
  if (shape.channels < 1 || shape.channels > kStemMaxChannels || shape.height % kPatch != 0 ||
      shape.width % kPatch != 0 || shape.height < kPatch || shape.width < kPatch || !aligned16(x))
    return cudaErrorInvalidValue;
  if (x_type == ElementType::kFloat32)
    return launch_typed<float>(x, weight, bias, ln_weight, ln_bias, eps, shape, y, stream);
  return launch_typed<__nv_bfloat16>(x, weight, bias, ln_weight, ln_bias, eps, shape, y, stream);
}

}  // namespace peaknet::model::cuda
