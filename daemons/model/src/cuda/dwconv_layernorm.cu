// Fused depthwise 7x7 conv -> LayerNorm (ConvNeXt-V2 layer, channels_last). cuDNN's channels_last
// depthwise kernel ran at ~170 GB/s and LayerNorm re-read its output in fp32. Here a block owns a pixel tile
// for every channel: it copies the zero-padded input halo of the tile into shared memory, kChunk channels at
// a time, each thread convolves a 4x8 sub-tile of one channel from there, the bf16 conv outputs collect in
// shared memory, then one warp per pixel normalises and writes the LayerNorm output once, already in the
// dtype pwconv1 consumes.
#include "dwconv_layernorm.cuh"

#include <cstdint>
#include <type_traits>

#include "device_math.cuh"
#include "layernorm_pair.cuh"

namespace peaknet::model::cuda {
namespace {

constexpr int kTaps = 7;

// LayerNorm of a kTh x kTw pixel tile whose bf16 conv outputs sit in shared memory as [pixel][channels]: one
// warp per pixel, two passes (mean, then centred variance), the output written once. Pixels outside the
// image (partial edge tiles) are skipped. Lane l owns channels l, l+32, ...: up to kMaxPerLane of them stay
// in registers across the passes with their LayerNorm weights (loaded once per block); wider C loops.
// Either way the sums run in the same order.
template <int kTh, int kTw, int kWarps, int kMaxPerLane, class Out>
__device__ __forceinline__ void layernorm_tile(const __nv_bfloat16* conv_tile, int oy0, int ox0, int height, int width,
                                               int channels, const float* __restrict__ ln_weight,
                                               const float* __restrict__ ln_bias, float eps, Out* __restrict__ y) {
  const int lane = threadIdx.x % 32;
  const float inv_c = 1.0f / static_cast<float>(channels);
  if (channels > 32 * kMaxPerLane) {
    for (int p = threadIdx.x / 32; p < kTh * kTw; p += kWarps) {
      const int oy = oy0 + p / kTw, ox = ox0 + p % kTw;
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
      Out* out = y + static_cast<long long>(oy * width + ox) * channels;
      for (int c = lane; c < channels; c += 32)
        out[c] = from_float<Out>((__bfloat162float(v[c]) - mean) * rstd * ln_weight[c] + ln_bias[c]);
    }
    return;
  }
  float g[kMaxPerLane], beta[kMaxPerLane];
#pragma unroll
  for (int k = 0; k < kMaxPerLane; ++k) {
    const int c = lane + 32 * k;
    g[k] = c < channels ? ln_weight[c] : 0.0f;
    beta[k] = c < channels ? ln_bias[c] : 0.0f;
  }
  // Two pixels per step: their shuffle reductions interleave (each is a chain of five dependent steps).
  static_assert(kTh * kTw % (2 * kWarps) == 0, "pixels pair up across the warps");
  for (int p0 = threadIdx.x / 32; p0 < kTh * kTw; p0 += 2 * kWarps) {
    const int p[2] = {p0, p0 + kWarps};
    float v[2][kMaxPerLane];
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
      for (int k = 0; k < kMaxPerLane; ++k) {
        const int c = lane + 32 * k;
        v[i][k] = c < channels ? __bfloat162float(conv_tile[p[i] * channels + c]) : 0.0f;
      }
    float mean[2], rstd[2];
    pair_layernorm_moments(v, lane, channels, eps, mean, rstd);
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int oy = oy0 + p[i] / kTw, ox = ox0 + p[i] % kTw;
      if (oy >= height || ox >= width) continue;
      Out* out = y + static_cast<long long>(oy * width + ox) * channels;
#pragma unroll
      for (int k = 0; k < kMaxPerLane; ++k) {
        const int c = lane + 32 * k;
        if (c < channels) out[c] = from_float<Out>((v[i][k] - mean[i]) * rstd[i] * g[k] + beta[k]);
      }
    }
  }
}

// Why staged: the previous kernel (one thread per channel, input read straight from global memory) was
// issue-bound under ncu at 16x480^2x96: 3.0 instructions/cycle, 4.5 instructions per FMA (each tap's weight
// reloaded per output row, a 64-bit address and a bounds check per input element). Here the halo is copied
// once per block with 16-byte loads and rounded to bf16 (the conv's input cast), each thread keeps its
// channel's 49 weights in registers and reads the halo at compile-time offsets. Taps are summed in the same
// order as before (row by row, left to right), so the outputs are the same bits.
template <class In>
struct Quad;  // four consecutive channels of the input, as one vector load
template <>
struct Quad<float> {
  using Raw = float4;
  __device__ static void to_bf16(const Raw& r, __nv_bfloat162* out) {
    out[0] = __floats2bfloat162_rn(r.x, r.y);
    out[1] = __floats2bfloat162_rn(r.z, r.w);
  }
};
template <>
struct Quad<__nv_bfloat16> {
  using Raw = uint2;
  __device__ static void to_bf16(const Raw& r, __nv_bfloat162* out) {
    out[0] = *reinterpret_cast<const __nv_bfloat162*>(&r.x);
    out[1] = *reinterpret_cast<const __nv_bfloat162*>(&r.y);
  }
};

/// A block's geometry: (4*kSubY) x (8*kSubX) output pixels, kChunk channels per halo copy, picked for C up to
/// kMaxChannels (the LayerNorm keeps up to 768 of them in registers).
template <int kSubY, int kSubX, int kChunk, int kMaxChannels>
struct StagedTile {
  static constexpr int kMaxPerLane = (kMaxChannels < 768 ? kMaxChannels : 768) / 32;
  static constexpr int kTh = 4 * kSubY, kTw = 8 * kSubX;  // output pixels of a block
  static constexpr int kHaloH = kTh + kTaps - 1, kHaloW = kTw + kTaps - 1;
  static constexpr int kThreads = kChunk * kSubY * kSubX;
  static constexpr size_t kHaloBytes = size_t{kHaloH} * kHaloW * kChunk * sizeof(__nv_bfloat16);
  static size_t shared_bytes(int64_t channels) {
    return kHaloBytes + static_cast<size_t>(kTh * kTw) * channels * sizeof(__nv_bfloat16);
  }
};

template <class In, class Out, int kSubY, int kSubX, int kChunk, int kMaxChannels, bool kQuadLoads>
__global__ void __launch_bounds__(StagedTile<kSubY, kSubX, kChunk, kMaxChannels>::kThreads)
    dwconv7_layernorm_staged_kernel(const In* __restrict__ x, const float* __restrict__ weight,
                                    const __nv_bfloat16* __restrict__ bias, const float* __restrict__ ln_weight,
                                    const float* __restrict__ ln_bias, float eps, int height, int width, int channels,
                                    Out* __restrict__ y) {
  using Tile = StagedTile<kSubY, kSubX, kChunk, kMaxChannels>;
  extern __shared__ __align__(16) unsigned char shared_raw[];
  auto* halo = reinterpret_cast<__nv_bfloat16*>(shared_raw);                          // [hy][hx][kChunk]
  auto* conv_tile = reinterpret_cast<__nv_bfloat16*>(shared_raw + Tile::kHaloBytes);  // [pixel][channels]
  const int tiles_w = (width + Tile::kTw - 1) / Tile::kTw;
  const int ox0 = static_cast<int>(blockIdx.x % tiles_w) * Tile::kTw;
  const int oy0 = static_cast<int>(blockIdx.x / tiles_w) * Tile::kTh;
  const long long image = static_cast<long long>(blockIdx.y) * height * width * channels;
  const In* xn = x + image;
  const int cc = threadIdx.x % kChunk, sub = threadIdx.x / kChunk;
  const int sy = sub / kSubX, sx = sub % kSubX;
  constexpr int kQuads = kChunk / 4;

  for (int c0 = 0; c0 < channels; c0 += kChunk) {
    // Halo copy: consecutive threads take consecutive channels (quads of them when C % 4 == 0) of a pixel,
    // so the loads coalesce; outside the image and beyond C, zeros (the conv's padding; unused lanes).
    if constexpr (kQuadLoads) {
      // Each thread keeps one quad and walks the halo kPixelStep pixels at a time (no divisions per item).
      constexpr int kPixelStep = Tile::kThreads / kQuads;
      const int q = threadIdx.x % kQuads;
      int px = threadIdx.x / kQuads, hy = px / Tile::kHaloW, hx = px % Tile::kHaloW;
      const bool quad_in = c0 + 4 * q < channels;
      const In* column = xn + c0 + 4 * q;
#pragma unroll 4
      for (; px < Tile::kHaloH * Tile::kHaloW; px += kPixelStep) {
        const int iy = oy0 + hy - kTaps / 2, ix = ox0 + hx - kTaps / 2;
        typename Quad<In>::Raw raw{};
        if (quad_in && static_cast<unsigned>(iy) < static_cast<unsigned>(height) &&
            static_cast<unsigned>(ix) < static_cast<unsigned>(width))
          raw = *reinterpret_cast<const typename Quad<In>::Raw*>(column + (iy * width + ix) * channels);
        Quad<In>::to_bf16(raw, reinterpret_cast<__nv_bfloat162*>(halo + px * kChunk + 4 * q));
        hx += kPixelStep % Tile::kHaloW;
        hy += kPixelStep / Tile::kHaloW;
        if (hx >= Tile::kHaloW) hx -= Tile::kHaloW, ++hy;
      }
    } else {
      for (int i = threadIdx.x; i < Tile::kHaloH * Tile::kHaloW * kChunk; i += Tile::kThreads) {
        const int ch = i % kChunk, px = i / kChunk;
        const int iy = oy0 + px / Tile::kHaloW - kTaps / 2, ix = ox0 + px % Tile::kHaloW - kTaps / 2;
        float v = 0.0f;
        if (iy >= 0 && iy < height && ix >= 0 && ix < width && c0 + ch < channels)
          v = to_float(xn[(static_cast<long long>(iy) * width + ix) * channels + c0 + ch]);
        halo[px * kChunk + ch] = __float2bfloat16_rn(v);
      }
    }
    const int c = c0 + cc;
    const bool active = c < channels;  // the last chunk may be partial (C % kChunk != 0)
    float w[kTaps * kTaps];
#pragma unroll
    for (int k = 0; k < kTaps * kTaps; ++k) w[k] = active ? weight[k * channels + c] : 0.0f;
    __syncthreads();

    float acc[4][8];
#pragma unroll
    for (int oy = 0; oy < 4; ++oy)
#pragma unroll
      for (int ox = 0; ox < 8; ++ox) acc[oy][ox] = 0.0f;
    const __nv_bfloat16* base = halo + ((sy * 4) * Tile::kHaloW + sx * 8) * kChunk + cc;
#pragma unroll
    for (int ir = 0; ir < 4 + kTaps - 1; ++ir) {
      float row[8 + kTaps - 1];
#pragma unroll
      for (int j = 0; j < 8 + kTaps - 1; ++j) row[j] = __bfloat162float(base[(ir * Tile::kHaloW + j) * kChunk]);
#pragma unroll
      for (int oy = 0; oy < 4; ++oy) {
        const int ky = ir - oy;
        if (ky < 0 || ky >= kTaps) continue;  // compile-time after unrolling
#pragma unroll
        for (int ox = 0; ox < 8; ++ox)
#pragma unroll
          for (int kx = 0; kx < kTaps; ++kx) acc[oy][ox] = fmaf(w[ky * kTaps + kx], row[ox + kx], acc[oy][ox]);
      }
    }
    const float b = bias != nullptr && active ? __bfloat162float(bias[c]) : 0.0f;
#pragma unroll
    for (int oy = 0; oy < 4; ++oy)
#pragma unroll
      for (int ox = 0; ox < 8; ++ox)
        if (active)
          conv_tile[((sy * 4 + oy) * Tile::kTw + sx * 8 + ox) * channels + c] =
              __float2bfloat16_rn(round_bf16(acc[oy][ox]) + b);
    __syncthreads();  // the next chunk overwrites the halo; the LayerNorm reads every chunk's outputs
  }
  layernorm_tile<Tile::kTh, Tile::kTw, Tile::kThreads / 32, Tile::kMaxPerLane>(
      conv_tile, oy0, ox0, height, width, channels, ln_weight, ln_bias, eps, y + image);
}

template <class In, class Out, int kSubY, int kSubX, int kChunk, int kMaxChannels, bool kQuadLoads>
cudaError_t launch_staged(const In* x, const float* weight, const __nv_bfloat16* bias, const float* ln_weight,
                          const float* ln_bias, float eps, const DwconvLayerNormShape& s, Out* y, cudaStream_t stream) {
  using Tile = StagedTile<kSubY, kSubX, kChunk, kMaxChannels>;
  const auto kernel = dwconv7_layernorm_staged_kernel<In, Out, kSubY, kSubX, kChunk, kMaxChannels, kQuadLoads>;
  const size_t shared = Tile::shared_bytes(s.channels);
  if (shared > 48 * 1024) {
    const cudaError_t status =
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared));
    if (status != cudaSuccess) return status;
  }
  const int64_t tiles = ((s.height + Tile::kTh - 1) / Tile::kTh) * ((s.width + Tile::kTw - 1) / Tile::kTw);
  const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(s.batch));
  kernel<<<grid, Tile::kThreads, shared, stream>>>(x, weight, bias, ln_weight, ln_bias, eps, static_cast<int>(s.height),
                                                   static_cast<int>(s.width), static_cast<int>(s.channels), y);
  return cudaGetLastError();
}

/// Tile per channel count, so that a block's conv outputs (pixels x C bf16) plus its halo leave room for 2-5
/// blocks per SM: 8x16 pixels up to 192 channels, 8x8 up to 384, 4x8 beyond (halo of 32, 64, 128 channels).
template <class In, class Out>
cudaError_t launch_typed(const void* x, const void* weight, const void* bias, const float* ln_weight,
                         const float* ln_bias, float eps, const DwconvLayerNormShape& s, void* y, cudaStream_t stream) {
  const auto* xi = static_cast<const In*>(x);
  const auto* wi = static_cast<const float*>(weight);
  const auto* bi = static_cast<const __nv_bfloat16*>(bias);
  auto* yo = static_cast<Out*>(y);
  const auto launch = [&](auto quad_loads) {
    constexpr bool kQuad = decltype(quad_loads)::value;
    if (s.channels <= 96)
      return launch_staged<In, Out, 2, 2, 32, 96, kQuad>(xi, wi, bi, ln_weight, ln_bias, eps, s, yo, stream);
    if (s.channels <= 192)
      return launch_staged<In, Out, 2, 2, 32, 192, kQuad>(xi, wi, bi, ln_weight, ln_bias, eps, s, yo, stream);
    if (s.channels <= 384)
      return launch_staged<In, Out, 2, 1, 64, 384, kQuad>(xi, wi, bi, ln_weight, ln_bias, eps, s, yo, stream);
    return launch_staged<In, Out, 1, 1, 128, kDwconvLayerNormMaxChannels, kQuad>(xi, wi, bi, ln_weight, ln_bias, eps, s,
                                                                                 yo, stream);
  };
  if (s.channels % 4 == 0 && aligned16(x)) return launch(std::true_type{});
  return launch(std::false_type{});
}

template <class In>
cudaError_t launch_to(const void* x, const void* weight, const void* bias, const float* ln_weight, const float* ln_bias,
                      float eps, const DwconvLayerNormShape& s, void* y, ElementType y_type, cudaStream_t stream) {
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
