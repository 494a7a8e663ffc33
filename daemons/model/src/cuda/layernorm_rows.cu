// LayerNorm over channels of a channels_last map, one warp per pixel row, with GELU and the residual add
// folded in: the BiFPN conv unit's LayerNorm -> GELU -> "+ input" reads its bf16 input once and writes
// its fp32 output once (the unfused ops wrote and re-read two fp32 temporaries), and the backbone's
// LayerNorms emit the dtype their consumer conv casts to.
#include "layernorm_rows.cuh"

#include "device_math.cuh"

namespace peaknet::model::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kMaxPerLane = static_cast<int>(kLayerNormRowsMaxChannels / 32);

template <class In, class Out, int kPerLane>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    layernorm_rows_kernel(const In* __restrict__ x, long long rows, int channels, const float* __restrict__ weight,
                          const float* __restrict__ bias, float eps, bool gelu, const void* __restrict__ residual,
                          ElementType residual_type, Out* __restrict__ y) {
  const int lane = threadIdx.x % 32;
  const long long row = static_cast<long long>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (row >= rows) return;
  const long long base = row * channels;
  float v[kPerLane];
  float sum = 0.0f;
#pragma unroll
  for (int k = 0; k < kPerLane; ++k) {
    const int c = lane + 32 * k;
    v[k] = c < channels ? to_float(x[base + c]) : 0.0f;
    sum += v[k];
  }
  const float inv_c = 1.0f / static_cast<float>(channels);
  const float mean = warp_sum(sum) * inv_c;
  float sq = 0.0f;
#pragma unroll
  for (int k = 0; k < kPerLane; ++k) {
    const int c = lane + 32 * k;
    const float d = c < channels ? v[k] - mean : 0.0f;
    sq = fmaf(d, d, sq);
  }
  const float rstd = rsqrtf(warp_sum(sq) * inv_c + eps);
#pragma unroll
  for (int k = 0; k < kPerLane; ++k) {
    const int c = lane + 32 * k;
    if (c >= channels) continue;
    float out = (v[k] - mean) * rstd * weight[c] + bias[c];
    if (gelu) out = gelu_exact(out);
    if (residual != nullptr) out = __fadd_rn(out, load_as_float(residual, residual_type, base + c));
    y[base + c] = from_float<Out>(out);
  }
}

template <class In, class Out, int kPerLane>
cudaError_t launch_typed(const LayerNormRowsArgs& a, cudaStream_t stream) {
  const long long blocks = (a.rows + kWarpsPerBlock - 1) / kWarpsPerBlock;
  layernorm_rows_kernel<In, Out, kPerLane><<<static_cast<unsigned>(blocks), kWarpsPerBlock * 32, 0, stream>>>(
      static_cast<const In*>(a.x), a.rows, static_cast<int>(a.channels), a.weight, a.bias, a.eps, a.gelu, a.residual,
      a.residual_type, static_cast<Out*>(a.y));
  return cudaGetLastError();
}

// Registers per lane sized to C (the smallest of 4/8/16/32 values per lane that holds a row).
template <class In, class Out>
cudaError_t launch_sized(const LayerNormRowsArgs& a, cudaStream_t stream) {
  const int64_t per_lane = (a.channels + 31) / 32;
  if (per_lane <= 4) return launch_typed<In, Out, 4>(a, stream);
  if (per_lane <= 8) return launch_typed<In, Out, 8>(a, stream);
  if (per_lane <= 16) return launch_typed<In, Out, 16>(a, stream);
  return launch_typed<In, Out, kMaxPerLane>(a, stream);
}

template <class In>
cudaError_t launch_to(const LayerNormRowsArgs& a, cudaStream_t stream) {
  if (a.y_type == ElementType::kFloat32) return launch_sized<In, float>(a, stream);
  return launch_sized<In, __nv_bfloat16>(a, stream);
}

}  // namespace

cudaError_t launch_layernorm_rows(const LayerNormRowsArgs& args, cudaStream_t stream) {
  if (args.channels < 1 || args.channels > kLayerNormRowsMaxChannels || args.rows < 0) return cudaErrorInvalidValue;
  if (args.rows == 0) return cudaSuccess;
  if (args.x_type == ElementType::kFloat32) return launch_to<float>(args, stream);
  return launch_to<__nv_bfloat16>(args, stream);
}

}  // namespace peaknet::model::cuda
