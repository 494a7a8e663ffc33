// Fused depthwise 7x7 conv -> LayerNorm (ConvNeXt-V2 layer, channels_last). cuDNN's channels_last
// depthwise kernel ran at ~170 GB/s and LayerNorm re-read its output in fp32; here one block computes a
// 4x8 pixel tile for every channel (one channel per thread at a time: coalesced loads across channels,
// a register sliding window over the 7 taps,
// tap-major weights read through L1), keeps the bf16 conv outputs in shared memory, then
// normalises each pixel with one warp and writes the LayerNorm output once, already in the dtype
// pwconv1 consumes.
#include "dwconv_layernorm.cuh"

#include <algorithm>

#include "device_math.cuh"

namespace peaknet::model::cuda {
namespace {

constexpr int kTileH = 4;
constexpr int kTileW = 8;
constexpr int kTilePixels = kTileH * kTileW;
constexpr int kTaps = 7;
constexpr int kMaxThreads = 256;

// Launch bounds for three blocks per SM: 22.4 ms for the 18 layers at 16x1920^2 vs 25.4 ms for two (both
// compile to 80 registers; the schedule differs); four (64 registers, spills) gave 22.0. A register double
// buffer for the next input row was slower (121 registers, 43.9 ms).
template <class In, class Out, int kMinBlocks>
__global__ void __launch_bounds__(kMaxThreads, kMinBlocks)
    dwconv7_layernorm_kernel(const In* __restrict__ x, const __nv_bfloat16* __restrict__ weight,
                             const __nv_bfloat16* __restrict__ bias, const float* __restrict__ ln_weight,
                             const float* __restrict__ ln_bias, float eps, int height, int width, int channels,
                             Out* __restrict__ y) {
  extern __shared__ __nv_bfloat16 conv_tile[];  // [kTilePixels][channels]
  const int tiles_w = (width + kTileW - 1) / kTileW;
  const int ox0 = static_cast<int>(blockIdx.x % tiles_w) * kTileW;
  const int oy0 = static_cast<int>(blockIdx.x / tiles_w) * kTileH;
  const long long image = static_cast<long long>(blockIdx.y) * height * width * channels;
  const In* xn = x + image;

  for (int c = threadIdx.x; c < channels; c += blockDim.x) {
    float acc[kTileH][kTileW];
#pragma unroll
    for (int oy = 0; oy < kTileH; ++oy)
#pragma unroll
      for (int ox = 0; ox < kTileW; ++ox) acc[oy][ox] = 0.0f;
#pragma unroll 1  // unrolled, the compiler hoists every row's loads and spills
    for (int ir = 0; ir < kTileH + kTaps - 1; ++ir) {
      const int iy = oy0 + ir - kTaps / 2;
      if (iy < 0 || iy >= height) continue;  // zero padding contributes nothing
      float row[kTileW + kTaps - 1];
#pragma unroll
      for (int j = 0; j < kTileW + kTaps - 1; ++j) {
        const int ix = ox0 + j - kTaps / 2;
        row[j] = (ix >= 0 && ix < width) ? round_bf16(to_float(xn[(iy * width + ix) * channels + c])) : 0.0f;
      }
#pragma unroll
      for (int oy = 0; oy < kTileH; ++oy) {
        const int ky = ir - oy;  // uniform across the warp
        if (ky < 0 || ky >= kTaps) continue;
#pragma unroll
        for (int ox = 0; ox < kTileW; ++ox)
#pragma unroll
          for (int kx = 0; kx < kTaps; ++kx) {
            // tap-major weights: a warp's 32 channels read one contiguous run; each tap serves kTileW pixels
            const float w = __bfloat162float(weight[(ky * kTaps + kx) * channels + c]);
            acc[oy][ox] = fmaf(w, row[ox + kx], acc[oy][ox]);
          }
      }
    }
    const float b = bias != nullptr ? __bfloat162float(bias[c]) : 0.0f;
#pragma unroll
    for (int oy = 0; oy < kTileH; ++oy)
#pragma unroll
      for (int ox = 0; ox < kTileW; ++ox)
        conv_tile[(oy * kTileW + ox) * channels + c] = __float2bfloat16_rn(round_bf16(acc[oy][ox]) + b);
  }
  __syncthreads();

  // LayerNorm: one warp per pixel, two passes over the shared tile (mean, then centred variance).
  const int lane = threadIdx.x % 32;
  const float inv_c = 1.0f / static_cast<float>(channels);
  for (int p = threadIdx.x / 32; p < kTilePixels; p += blockDim.x / 32) {
    const int oy = oy0 + p / kTileW, ox = ox0 + p % kTileW;
    if (oy >= height || ox >= width) continue;
    const __nv_bfloat16* v = conv_tile + p * channels;
    float sum = 0.0f;
    for (int c = lane; c < channels; c += 32) sum += __bfloat162float(v[c]);
    const float mean = warp_sum(sum) * inv_c;
    float sq = 0.0f;
    for (int c = lane; c < channels; c += 32) {
      const float d = __bfloat162float(v[c]) - mean;
      sq = fmaf(d, d, sq);
    }
    const float rstd = rsqrtf(warp_sum(sq) * inv_c + eps);
    Out* out = y + image + static_cast<long long>(oy * width + ox) * channels;
    for (int c = lane; c < channels; c += 32)
      out[c] = from_float<Out>((__bfloat162float(v[c]) - mean) * rstd * ln_weight[c] + ln_bias[c]);
  }
}

template <class In, class Out>
cudaError_t launch_typed(const void* x, const void* weight, const void* bias, const float* ln_weight,
                         const float* ln_bias, float eps, const DwconvLayerNormShape& s, void* y,
                         cudaStream_t stream) {
  const auto kernel = dwconv7_layernorm_kernel<In, Out, 3>;
  // Balanced rounds: every pass over the channels uses (nearly) every thread (C=384: 2 x 192, not 256 + 128).
  const int64_t rounds = (s.channels + kMaxThreads - 1) / kMaxThreads;
  const int threads = static_cast<int>(((s.channels + rounds - 1) / rounds + 31) / 32 * 32);
  const size_t shared = static_cast<size_t>(kTilePixels) * s.channels * sizeof(__nv_bfloat16);
  if (shared > 48 * 1024) {
    const cudaError_t status =
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared));
    if (status != cudaSuccess) return status;
  }
  const int64_t tiles = ((s.height + kTileH - 1) / kTileH) * ((s.width + kTileW - 1) / kTileW);
  const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(s.batch));
  kernel<<<grid, threads, shared, stream>>>(
      static_cast<const In*>(x), static_cast<const __nv_bfloat16*>(weight),
      static_cast<const __nv_bfloat16*>(bias), ln_weight, ln_bias, eps, static_cast<int>(s.height),
      static_cast<int>(s.width), static_cast<int>(s.channels), static_cast<Out*>(y));
  return cudaGetLastError();
}

template <class In>
cudaError_t launch_to(const void* x, const void* weight, const void* bias, const float* ln_weight,
                      const float* ln_bias, float eps, const DwconvLayerNormShape& s, void* y, ElementType y_type,
                      cudaStream_t stream) {
  if (y_type == ElementType::kFloat32)
    return launch_typed<In, float>(x, weight, bias, ln_weight, ln_bias, eps, s, y, stream);
  return launch_typed<In, __nv_bfloat16>(x, weight, bias, ln_weight, ln_bias, eps, s, y, stream);
}

}  // namespace

cudaError_t launch_dwconv7_layernorm(const void* x, ElementType x_type, const void* weight, const void* bias,
                                     const float* ln_weight, const float* ln_bias, float eps,
                                     const DwconvLayerNormShape& shape, void* y, ElementType y_type,
                                     cudaStream_t stream) {
  if (shape.channels < 1 || shape.channels > kDwconvLayerNormMaxChannels) return cudaErrorInvalidValue;
  if (x_type == ElementType::kFloat32)
    return launch_to<float>(x, weight, bias, ln_weight, ln_bias, eps, shape, y, y_type, stream);
  return launch_to<__nv_bfloat16>(x, weight, bias, ln_weight, ln_bias, eps, shape, y, y_type, stream);
}

}  // namespace peaknet::model::cuda
