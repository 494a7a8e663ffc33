// Fused depthwise 7x7 conv -> LayerNorm (ConvNeXt-V2 layer, channels_last). cuDNN's channels_last
// depthwise kernel ran at ~170 GB/s and LayerNorm re-read its output in fp32; here one block computes a
// 4x8 pixel tile for every channel (one channel per thread at a time: coalesced loads across channels,
// a register sliding window over the 7 taps,
// tap-major weights read through L1), keeps the bf16 conv outputs in shared memory, then
// normalises each pixel with one warp and writes the LayerNorm output once, already in the dtype
// pwconv1 consumes.
#include "dwconv_layernorm.cuh"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "device_math.cuh"

namespace peaknet::model::cuda {
namespace {

constexpr int kTileH = 4;
constexpr int kTileW = 8;
constexpr int kTilePixels = kTileH * kTileW;
constexpr int kTaps = 7;
constexpr int kMaxThreads = 256;

// LayerNorm of a block's bf16 conv tile [tile_h * tile_w][channels] (row-major pixels at (oy0, ox0)): one warp
// per pixel, two passes over the shared tile (mean, then centred variance). Pixels outside the image are skipped.
template <class Out>
__device__ __forceinline__ void layernorm_tile(const __nv_bfloat16* conv_tile, int tile_h, int tile_w, int oy0,
                                               int ox0, const float* __restrict__ ln_weight,
                                               const float* __restrict__ ln_bias, float eps, int height, int width,
                                               int channels, Out* __restrict__ y_image) {
  const int lane = threadIdx.x % 32;
  const float inv_c = 1.0f / static_cast<float>(channels);
  for (int p = threadIdx.x / 32; p < tile_h * tile_w; p += blockDim.x / 32) {
    const int oy = oy0 + p / tile_w, ox = ox0 + p % tile_w;
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
    Out* out = y_image + static_cast<long long>(oy * width + ox) * channels;
    for (int c = lane; c < channels; c += 32)
      out[c] = from_float<Out>((__bfloat162float(v[c]) - mean) * rstd * ln_weight[c] + ln_bias[c]);
  }
}

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

  layernorm_tile<Out>(conv_tile, kTileH, kTileW, oy0, ox0, ln_weight, ln_bias, eps, height, width, channels,
                      y + image);
}

// Strip rolling-window variant (A/B against the tile kernel above, selected by PEAKNET_DWCONV_STRIP=1): a block
// computes strip_rows x 8 output pixels for every channel. Each thread reads the strip_rows + 6 input rows of its
// channel once (vs 10 rows per 4 output rows above) and adds every row to the up to 7 output rows it touches,
// kept in a circular register buffer: output row r lives in acc[r % 7]. The row loop runs in groups of 7, so
// r % 7 = (step - ky) mod 7 is a compile-time index. Arithmetic order per output (same as the tile kernel, so
// the results are bit-equal): an fmaf chain from 0 over the input rows in ascending ky, kx ascending within a row;
// rows outside the image are skipped, columns outside it add w * 0.
constexpr int kStripW = 8;
constexpr int kStripHalo = kStripW + kTaps - 1;
constexpr int64_t kStripSharedBudget = 64 * 1024;  // bytes of the bf16 conv strip, sets strip_rows
constexpr int64_t kStripMinRows = 4, kStripMaxRows = 16;
// Launch bounds for two blocks per SM: 118 registers, no spills. Three blocks (80 registers) spill: the 56
// accumulators and the 14-value input row alone take 70.
constexpr int kStripMinBlocks = 2;

// One weight tap through the read-only cache as an opaque load. Plain loads of the tap-major weights are loop
// invariant, so the compiler hoists all 49 taps of a channel out of the row loop (49 more live registers: 128
// and spills); the asm keeps each tap load next to its 8 FMAs.
__device__ __forceinline__ float load_tap(const __nv_bfloat16* tap) {
  unsigned short raw;
  asm volatile("ld.global.nc.u16 %0, [%1];" : "=h"(raw) : "l"(tap));
  return __uint_as_float(static_cast<unsigned>(raw) << 16);  // bf16 -> fp32 is exact: the high 16 bits
}

template <class In, class Out, int kMinBlocks>
__global__ void __launch_bounds__(kMaxThreads, kMinBlocks)
    dwconv7_layernorm_strip_kernel(const In* __restrict__ x, const __nv_bfloat16* __restrict__ weight,
                                   const __nv_bfloat16* __restrict__ bias, const float* __restrict__ ln_weight,
                                   const float* __restrict__ ln_bias, float eps, int height, int width,
                                   int channels, int strip_rows, Out* __restrict__ y) {
  extern __shared__ __nv_bfloat16 conv_strip[];  // [strip_rows * kStripW][channels]
  const int strips_w = (width + kStripW - 1) / kStripW;
  const int ox0 = static_cast<int>(blockIdx.x % strips_w) * kStripW;
  const int oy0 = static_cast<int>(blockIdx.x / strips_w) * strip_rows;
  // Output rows past the image bottom are neither computed nor stored (the LayerNorm skips them too).
  const int out_rows = min(strip_rows, height - oy0);
  const int in_rows = out_rows + kTaps - 1;  // input row ir is image row oy0 + ir - 3
  const long long image = static_cast<long long>(blockIdx.y) * height * width * channels;
  const In* xn = x + image;

  for (int c = threadIdx.x; c < channels; c += blockDim.x) {
    const float b = bias != nullptr ? __bfloat162float(bias[c]) : 0.0f;
    float acc[kTaps][kStripW];
#pragma unroll
    for (int slot = 0; slot < kTaps; ++slot)
#pragma unroll
      for (int ox = 0; ox < kStripW; ++ox) acc[slot][ox] = 0.0f;

#pragma unroll 1
    for (int ir0 = 0; ir0 < in_rows; ir0 += kTaps) {
#pragma unroll
      for (int step = 0; step < kTaps; ++step) {
        const int ir = ir0 + step;  // ir % 7 == step
        if (ir >= in_rows) break;   // uniform across the block
        const int iy = oy0 + ir - kTaps / 2;
        if (iy >= 0 && iy < height) {  // rows outside the image are zero padding: they add nothing
          float row[kStripHalo];
#pragma unroll
          for (int j = 0; j < kStripHalo; ++j) {
            const int ix = ox0 + j - kTaps / 2;
            row[j] = (ix >= 0 && ix < width) ? round_bf16(to_float(xn[(iy * width + ix) * channels + c])) : 0.0f;
          }
#pragma unroll
          for (int ky = 0; ky < kTaps; ++ky) {
            const int r = ir - ky;  // the output row this input row feeds through tap row ky
            if (r < 0 || r >= out_rows) continue;  // outside the strip (uniform)
            float* out_row = acc[(step - ky + kTaps) % kTaps];  // acc[r % 7]
#pragma unroll
            for (int kx = 0; kx < kTaps; ++kx) {
              const float w = load_tap(weight + (ky * kTaps + kx) * channels + c);
#pragma unroll
              for (int ox = 0; ox < kStripW; ++ox) out_row[ox] = fmaf(w, row[ox + kx], out_row[ox]);
            }
          }
        }
        // Output row ir - 6 has had all 7 tap rows: store it as cuDNN's bf16 output plus the bias (rounded again),
        // then clear its slot for output row ir + 1, which starts with the next input row.
        const int done = ir - (kTaps - 1);
        if (done >= 0) {
          __nv_bfloat16* out = conv_strip + static_cast<long long>(done * kStripW) * channels + c;
          float* done_row = acc[(step + 1) % kTaps];  // acc[done % 7]
#pragma unroll
          for (int ox = 0; ox < kStripW; ++ox) {
            out[ox * channels] = __float2bfloat16_rn(round_bf16(done_row[ox]) + b);
            done_row[ox] = 0.0f;
          }
        }
      }
    }
  }
  __syncthreads();

  layernorm_tile<Out>(conv_strip, strip_rows, kStripW, oy0, ox0, ln_weight, ln_bias, eps, height, width, channels,
                      y + image);
}

// Opts a kernel into more than the default 48 KB of dynamic shared memory when it needs it.
template <class Kernel>
cudaError_t allow_shared(Kernel kernel, size_t shared) {
  if (shared <= 48 * 1024) return cudaSuccess;
  return cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared));
}

// Temporary A/B switch: PEAKNET_DWCONV_STRIP=1 runs the strip rolling-window kernel, unset or 0 the tile kernel.
bool use_strip_kernel() {
  static const bool strip = [] {
    const char* value = std::getenv("PEAKNET_DWCONV_STRIP");
    return value != nullptr && std::string_view(value) == "1";
  }();
  return strip;
}

template <class In, class Out>
cudaError_t launch_typed(const void* x, const void* weight, const void* bias, const float* ln_weight,
                         const float* ln_bias, float eps, const DwconvLayerNormShape& s, void* y,
                         cudaStream_t stream) {
  // Balanced rounds: every pass over the channels uses (nearly) every thread (C=384: 2 x 192, not 256 + 128).
  const int64_t rounds = (s.channels + kMaxThreads - 1) / kMaxThreads;
  const int threads = static_cast<int>(((s.channels + rounds - 1) / rounds + 31) / 32 * 32);
  const auto* x_typed = static_cast<const In*>(x);
  const auto* weight_bf16 = static_cast<const __nv_bfloat16*>(weight);
  const auto* bias_bf16 = static_cast<const __nv_bfloat16*>(bias);
  const int height = static_cast<int>(s.height), width = static_cast<int>(s.width);
  const int channels = static_cast<int>(s.channels);
  const int64_t tiles_w = (s.width + kTileW - 1) / kTileW;  // kTileW == kStripW
  if (use_strip_kernel()) {
    const auto kernel = dwconv7_layernorm_strip_kernel<In, Out, kStripMinBlocks>;
    // As many rows as keep the bf16 strip within the budget (C=96, 192: 16; 384: 10; 768: 5; 2048: 4 -> 128 KB).
    const int64_t strip_rows = std::clamp<int64_t>(
        kStripSharedBudget / (kStripW * s.channels * static_cast<int64_t>(sizeof(__nv_bfloat16))), kStripMinRows,
        kStripMaxRows);
    const size_t shared = static_cast<size_t>(strip_rows * kStripW * s.channels) * sizeof(__nv_bfloat16);
    if (const cudaError_t status = allow_shared(kernel, shared); status != cudaSuccess) return status;
    const int64_t strips = ((s.height + strip_rows - 1) / strip_rows) * tiles_w;
    const dim3 grid(static_cast<unsigned>(strips), static_cast<unsigned>(s.batch));
    kernel<<<grid, threads, shared, stream>>>(x_typed, weight_bf16, bias_bf16, ln_weight, ln_bias, eps, height,
                                              width, channels, static_cast<int>(strip_rows), static_cast<Out*>(y));
    return cudaGetLastError();
  }
  const auto kernel = dwconv7_layernorm_kernel<In, Out, 3>;
  const size_t shared = static_cast<size_t>(kTilePixels) * s.channels * sizeof(__nv_bfloat16);
  if (const cudaError_t status = allow_shared(kernel, shared); status != cudaSuccess) return status;
  const int64_t tiles = ((s.height + kTileH - 1) / kTileH) * tiles_w;
  const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(s.batch));
  kernel<<<grid, threads, shared, stream>>>(x_typed, weight_bf16, bias_bf16, ln_weight, ln_bias, eps, height, width,
                                            channels, static_cast<Out*>(y));
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
