// Fused GELU -> GRN for channels_last activations (ConvNeXt-V2 layers). Three launches: per-chunk fp32
// sums of squares, per-(n,c) scale, then one elementwise pass that recomputes GELU and applies GRN, so
// the GELU output and the fp32 GRN temporaries never reach HBM. Arithmetic mirrors the unfused torch
// ops one rounding at a time (__f*_rn: no FMA contraction), so only the reduction order differs.
#include "fused_grn.cuh"

#include "device_math.cuh"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace peaknet::model::cuda {
namespace {

constexpr int kStatChannels = 128;  // channels per statistics block (threadIdx.x)
constexpr int kStatRows = 4;        // pixel rows read in parallel per statistics block (threadIdx.y)
constexpr int kScaleThreads = 256;
constexpr int kApplyThreads = 256;
constexpr int kApplyVector = 4;  // elements per thread in the apply pass when C % 4 == 0 and aligned

// The value GRN sees: x, or GELU(x) rounded to T as at::gelu would store it.
template <class T, bool kGelu>
__device__ __forceinline__ float grn_input(T raw) {
  const float x = to_float(raw);
  if constexpr (kGelu) return to_float(from_float<T>(gelu_exact(x)));
  return x;
}

template <class T, bool kGelu>
__global__ void grn_statistics_kernel(const T* __restrict__ x, int64_t pixels, int64_t channels, int64_t chunks,
                                      float* __restrict__ partials) {
  __shared__ float sums[kStatRows][kStatChannels];
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kStatChannels + threadIdx.x;
  const int64_t chunk = blockIdx.y;
  const int64_t n = blockIdx.z;
  const int64_t rows_per_chunk = (pixels + chunks - 1) / chunks;
  const int64_t first = chunk * rows_per_chunk;
  const int64_t last = first + rows_per_chunk < pixels ? first + rows_per_chunk : pixels;
  float acc = 0.0f;
  if (c < channels) {
    const T* base = x + n * pixels * channels + c;
    for (int64_t r = first + threadIdx.y; r < last; r += kStatRows) {
      const float v = grn_input<T, kGelu>(base[r * channels]);
      acc = fmaf(v, v, acc);
    }
  }
  sums[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < channels) {
    float total = 0.0f;
    for (int i = 0; i < kStatRows; ++i) total += sums[i][threadIdx.x];
    partials[(n * chunks + chunk) * channels + c] = total;
  }
}

// Vector variant (C % V == 0, C / V <= 1024, 16-byte aligned): blockDim = (C / V, rows), one row of
// threads spans the channels; each thread sums V channels of its rows with one 16-byte load per row — a
// warp reads whole contiguous pixel rows.
// gelu_out (may alias x, hence no __restrict__ on x): also store GELU(x) there, so the apply pass reads
// it instead of evaluating erf a second time.
template <class T, bool kGelu>
__global__ void grn_statistics_vector_kernel(const T* x, int64_t pixels, int channels, int64_t chunks,
                                             float* __restrict__ partials, T* gelu_out) {
  constexpr int V = Pack16<T>::kSize;
  extern __shared__ float row_sums[];  // [rows][C]
  const int c0 = threadIdx.x * V;
  const int64_t chunk = blockIdx.x, n = blockIdx.y;
  const int64_t per_chunk = (pixels + chunks - 1) / chunks;
  const int64_t first = chunk * per_chunk;
  const int64_t last = min(first + per_chunk, pixels);
  float acc[V];
#pragma unroll
  for (int k = 0; k < V; ++k) acc[k] = 0.0f;
  const T* image = x + n * pixels * channels;
  for (int64_t r = first + threadIdx.y; r < last; r += blockDim.y) {
    float v[V];
    Pack16<T>::load(image + r * channels + c0, v);
#pragma unroll
    for (int k = 0; k < V; ++k) {
      if constexpr (kGelu) v[k] = round_as<T>(gelu_exact(v[k]));
      acc[k] = fmaf(v[k], v[k], acc[k]);
    }
    if (kGelu && gelu_out != nullptr) store_pack<T, V>(gelu_out + n * pixels * channels + r * channels + c0, v);
  }
#pragma unroll
  for (int k = 0; k < V; ++k) row_sums[threadIdx.y * channels + c0 + k] = acc[k];
  __syncthreads();
  for (int c = threadIdx.y * blockDim.x + threadIdx.x; c < channels; c += blockDim.x * blockDim.y) {
    float total = 0.0f;
    for (unsigned y = 0; y < blockDim.y; ++y) total += row_sums[y * channels + c];
    partials[(n * chunks + chunk) * channels + c] = total;
  }
}

template <class T>
bool vector_statistics(const GrnShape& s) {
  return s.channels % Pack16<T>::kSize == 0 && s.channels / Pack16<T>::kSize <= 1024 && s.batch <= 65535;
}

// One block per image: Gx = sqrt(sum of partials), scale = Gx / (mean_c Gx + eps).
__global__ void grn_scale_kernel(const float* __restrict__ partials, int64_t channels, int64_t chunks, float eps,
                                 float* __restrict__ scale) {
  __shared__ float block_sum[kScaleThreads];
  const int64_t n = blockIdx.x;
  float local = 0.0f;
  for (int64_t c = threadIdx.x; c < channels; c += kScaleThreads) {
    float sum_sq = 0.0f;
    for (int64_t k = 0; k < chunks; ++k) sum_sq += partials[(n * chunks + k) * channels + c];
    const float g = __fsqrt_rn(sum_sq);
    scale[n * channels + c] = g;
    local += g;
  }
  block_sum[threadIdx.x] = local;
  __syncthreads();
  for (int stride = kScaleThreads / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) block_sum[threadIdx.x] += block_sum[threadIdx.x + stride];
    __syncthreads();
  }
  const float denominator = __fadd_rn(__fdiv_rn(block_sum[0], static_cast<float>(channels)), eps);
  for (int64_t c = threadIdx.x; c < channels; c += kScaleThreads)
    scale[n * channels + c] = __fdiv_rn(scale[n * channels + c], denominator);
}

// Same order as the unfused forward: ((gamma * (v * s)) + beta) + v.
__device__ __forceinline__ float grn_output(float v, float s, float gamma, float beta) {
  return __fadd_rn(__fadd_rn(__fmul_rn(gamma, __fmul_rn(v, s)), beta), v);
}

template <class T>
struct alignas(sizeof(T) * kApplyVector) Vec {
  T v[kApplyVector];
};

// Each thread handles kVector consecutive elements of one pixel row (C % kVector == 0).
template <class T, class Out, bool kGelu, int kVector>
__global__ void grn_apply_kernel(const T* __restrict__ x, int64_t pixels, int64_t channels,
                                 const float* __restrict__ scale, const float* __restrict__ gamma,
                                 const float* __restrict__ beta, Out* __restrict__ y, int64_t groups) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += stride) {
    const int64_t i = g * kVector;
    const int64_t c0 = i % channels;
    const int64_t n = i / (pixels * channels);
    const float* s = scale + n * channels + c0;
    if constexpr (kVector == 1) {
      const float v = grn_input<T, kGelu>(x[i]);
      y[i] = from_float<Out>(grn_output(v, s[0], gamma[c0], beta[c0]));
    } else {
      const Vec<T> in = *reinterpret_cast<const Vec<T>*>(x + i);
      Vec<Out> out;
#pragma unroll
      for (int k = 0; k < kVector; ++k) {
        const float v = grn_input<T, kGelu>(in.v[k]);
        out.v[k] = from_float<Out>(grn_output(v, s[k], gamma[c0 + k], beta[c0 + k]));
      }
      *reinterpret_cast<Vec<Out>*>(y + i) = out;
    }
  }
}

int apply_blocks(int64_t groups) {
  const int64_t wanted = (groups + kApplyThreads - 1) / kApplyThreads;
  return static_cast<int>(std::clamp<int64_t>(wanted, 1, 132 * 32));  // grid-stride beyond ~32 blocks/SM
}

template <class T, class Out, bool kGelu>
void apply_typed(const void* x, const GrnShape& s, const float* scale, const float* gamma, const float* beta, void* y,
                 cudaStream_t stream) {
  const int64_t total = s.batch * s.pixels * s.channels;
  const auto* in = static_cast<const T*>(x);
  auto* out = static_cast<Out*>(y);
  if (s.channels % kApplyVector == 0 && aligned16(x) && aligned16(y)) {
    const int64_t groups = total / kApplyVector;
    grn_apply_kernel<T, Out, kGelu, kApplyVector>
        <<<apply_blocks(groups), kApplyThreads, 0, stream>>>(in, s.pixels, s.channels, scale, gamma, beta, out, groups);
  } else {
    grn_apply_kernel<T, Out, kGelu, 1>
        <<<apply_blocks(total), kApplyThreads, 0, stream>>>(in, s.pixels, s.channels, scale, gamma, beta, out, total);
  }
}

template <class T, bool kGelu>
void apply_to(const void* x, const GrnShape& s, const float* scale, const float* gamma, const float* beta, void* y,
              ElementType out_type, cudaStream_t stream) {
  if (out_type == ElementType::kFloat32) apply_typed<T, float, kGelu>(x, s, scale, gamma, beta, y, stream);
  else apply_typed<T, __nv_bfloat16, kGelu>(x, s, scale, gamma, beta, y, stream);
}

}  // namespace

int64_t grn_stat_chunks(const GrnShape& shape, ElementType type) {
  constexpr int64_t kTargetBlocks = 132 * 8;  // a few waves on an H200 (132 SMs)
  constexpr int64_t kMinRowsPerChunk = 64;
  const bool vector =
      type == ElementType::kBFloat16 ? vector_statistics<__nv_bfloat16>(shape) : vector_statistics<float>(shape);
  const int64_t channel_tiles = vector ? 1 : (shape.channels + kStatChannels - 1) / kStatChannels;
  const int64_t wanted = (kTargetBlocks + channel_tiles * shape.batch - 1) / (channel_tiles * shape.batch);
  const int64_t most = std::max<int64_t>(1, shape.pixels / kMinRowsPerChunk);
  return std::clamp<int64_t>(wanted, 1, std::min<int64_t>(most, 65535));
}

template <class T>
void launch_vector_statistics(const void* x, bool apply_gelu, const GrnShape& s, int64_t chunks, float* partials,
                              void* gelu_out, cudaStream_t stream) {
  const auto threads_x = static_cast<unsigned>(s.channels / Pack16<T>::kSize);
  const dim3 block(threads_x, std::max(1u, 256u / threads_x));
  const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>(s.batch));
  const size_t shared = static_cast<size_t>(block.y) * s.channels * sizeof(float);
  const auto* data = static_cast<const T*>(x);
  const int c = static_cast<int>(s.channels);
  auto* out = static_cast<T*>(gelu_out);
  if (apply_gelu)
    grn_statistics_vector_kernel<T, true><<<grid, block, shared, stream>>>(data, s.pixels, c, chunks, partials, out);
  else
    grn_statistics_vector_kernel<T, false><<<grid, block, shared, stream>>>(data, s.pixels, c, chunks, partials, out);
}

bool grn_statistics_stores_gelu(const void* x, ElementType type, const GrnShape& shape) {
  if (!aligned16(x)) return false;
  return type == ElementType::kBFloat16 ? vector_statistics<__nv_bfloat16>(shape) : vector_statistics<float>(shape);
}

cudaError_t launch_grn_statistics(const void* x, ElementType type, bool apply_gelu, const GrnShape& shape,
                                  int64_t chunks, float* partials, cudaStream_t stream, void* gelu_out) {
  // chunks must come from grn_stat_chunks(shape, type): it sizes the grid for the variant chosen here.
  if (gelu_out != nullptr && (!apply_gelu || !grn_statistics_stores_gelu(x, type, shape) || !aligned16(gelu_out)))
    return cudaErrorInvalidValue;
  if (grn_statistics_stores_gelu(x, type, shape)) {
    if (type == ElementType::kBFloat16)
      launch_vector_statistics<__nv_bfloat16>(x, apply_gelu, shape, chunks, partials, gelu_out, stream);
    else launch_vector_statistics<float>(x, apply_gelu, shape, chunks, partials, gelu_out, stream);
    return cudaGetLastError();
  }
  const dim3 block(kStatChannels, kStatRows);
  const dim3 grid(static_cast<unsigned>((shape.channels + kStatChannels - 1) / kStatChannels),
                  static_cast<unsigned>(chunks), static_cast<unsigned>(shape.batch));
  const auto run = [&](auto kernel, const auto* data) {
    kernel<<<grid, block, 0, stream>>>(data, shape.pixels, shape.channels, chunks, partials);
  };
  const auto* f = static_cast<const float*>(x);
  const auto* b = static_cast<const __nv_bfloat16*>(x);
  if (type == ElementType::kFloat32) {
    apply_gelu ? run(grn_statistics_kernel<float, true>, f) : run(grn_statistics_kernel<float, false>, f);
  } else {
    apply_gelu ? run(grn_statistics_kernel<__nv_bfloat16, true>, b)
               : run(grn_statistics_kernel<__nv_bfloat16, false>, b);
  }
  return cudaGetLastError();
}

cudaError_t launch_grn_scale(const float* partials, const GrnShape& shape, int64_t chunks, double eps, float* scale,
                             cudaStream_t stream) {
  grn_scale_kernel<<<static_cast<unsigned>(shape.batch), kScaleThreads, 0, stream>>>(partials, shape.channels, chunks,
                                                                                     static_cast<float>(eps), scale);
  return cudaGetLastError();
}

cudaError_t launch_grn_apply(const void* x, ElementType type, bool apply_gelu, const GrnShape& shape,
                             const float* scale, const float* gamma, const float* beta, void* y, ElementType out_type,
                             cudaStream_t stream) {
  if (type == ElementType::kFloat32) {
    apply_gelu ? apply_to<float, true>(x, shape, scale, gamma, beta, y, out_type, stream)
               : apply_to<float, false>(x, shape, scale, gamma, beta, y, out_type, stream);
  } else {
    apply_gelu ? apply_to<__nv_bfloat16, true>(x, shape, scale, gamma, beta, y, out_type, stream)
               : apply_to<__nv_bfloat16, false>(x, shape, scale, gamma, beta, y, out_type, stream);
  }
  return cudaGetLastError();
}

}  // namespace peaknet::model::cuda
