// residual + (x + bias) with four channels per thread: one 16-byte (fp32) or 8-byte (bf16) access per
// operand instead of the unfused add's separate bias epilogue and residual-add passes.
#include "residual_bias_add.cuh"

#include <algorithm>

#include "device_math.cuh"

namespace peaknet::model::cuda {
namespace {

constexpr int kThreads = 256;

template <class T>
struct alignas(4 * sizeof(T)) Quad {
  T v[4];
};

template <class R, class X, class Out>
__global__ void __launch_bounds__(kThreads)
    residual_bias_add_kernel(const Quad<R>* __restrict__ residual, const Quad<X>* __restrict__ x,
                             const float4* __restrict__ bias, int64_t quads, int channel_quads,
                             Quad<Out>* __restrict__ y) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < quads; i += stride) {
    const Quad<R> r = residual[i];
    const Quad<X> p = x[i];
    const float4 b4 = bias[i % channel_quads];
    const float b[4] = {b4.x, b4.y, b4.z, b4.w};
    Quad<Out> out;
#pragma unroll
    for (int k = 0; k < 4; ++k)
      out.v[k] = from_float<Out>(__fadd_rn(to_float(r.v[k]), __fadd_rn(to_float(p.v[k]), b[k])));
    y[i] = out;
  }
}

template <class R, class X, class Out>
void launch_typed(const void* residual, const void* x, const float* bias, const ResidualBiasAddShape& s, void* y,
                  cudaStream_t stream) {
  const int64_t quads = s.elements / 4;
  const int blocks = static_cast<int>(std::clamp<int64_t>((quads + kThreads - 1) / kThreads, 1, 132 * 16));
  residual_bias_add_kernel<R, X, Out><<<blocks, kThreads, 0, stream>>>(
      static_cast<const Quad<R>*>(residual), static_cast<const Quad<X>*>(x), reinterpret_cast<const float4*>(bias),
      quads, static_cast<int>(s.channels / 4), static_cast<Quad<Out>*>(y));
}

using Bf16 = __nv_bfloat16;

}  // namespace

cudaError_t launch_residual_bias_add(const void* residual, ElementType residual_type, const void* x, ElementType x_type,
                                     const float* bias, const ResidualBiasAddShape& s, void* y, ElementType out_type,
                                     cudaStream_t stream) {
  if (s.channels < 4 || s.channels % 4 != 0 || s.elements % s.channels != 0 || !aligned16(residual) || !aligned16(x) ||
      !aligned16(y) || !aligned16(bias))
    return cudaErrorInvalidValue;
  if (s.elements == 0) return cudaSuccess;
  const auto run = [&](auto launch) {
    launch(residual, x, bias, s, y, stream);
    return cudaGetLastError();
  };
  using T = ElementType;
  const T f = T::kFloat32, h = T::kBFloat16;
  // The combinations the ConvNeXt layers produce: fp32 or bf16 residual stream, bf16 (autocast) or fp32 GEMM.
  if (residual_type == f && x_type == h && out_type == f) return run(launch_typed<float, Bf16, float>);
  if (residual_type == h && x_type == h && out_type == h) return run(launch_typed<Bf16, Bf16, Bf16>);
  if (residual_type == f && x_type == f && out_type == f) return run(launch_typed<float, float, float>);
  if (residual_type == h && x_type == h && out_type == f) return run(launch_typed<Bf16, Bf16, float>);
  if (residual_type == h && x_type == f && out_type == f) return run(launch_typed<Bf16, float, float>);
  return cudaErrorInvalidValue;  // an output narrower than an fp32 operand: not a torch promotion
}

}  // namespace peaknet::model::cuda
