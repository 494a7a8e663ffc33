// Head upsample + sum: at::upsample_bilinear2d wrote a 4x larger fp32 map and the sum re-read it; here
// each output pixel's 4 channels are interpolated from the (L2-resident) input and added to the
// accumulator in one pass with 16-byte loads and stores.
#include "upsample_add.cuh"

#include <algorithm>

#include "device_math.cuh"

namespace peaknet::model::cuda {
namespace {

constexpr int kThreads = 256;

// One thread per (output pixel, 4 channels).
__global__ void __launch_bounds__(kThreads)
    upsample2x_add_kernel(const float4* __restrict__ x, const float4* __restrict__ acc, int64_t batch, int quads,
                          int in_h, int in_w, float4* __restrict__ y) {
  const int out_h = 2 * in_h, out_w = 2 * in_w;
  const int64_t total = batch * out_h * out_w * quads;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int q = static_cast<int>(i % quads);
    const int64_t pixel = i / quads;
    const int ox = static_cast<int>(pixel % out_w);
    const int64_t row = pixel / out_w;
    const int oy = static_cast<int>(row % out_h);
    const int64_t n = row / out_h;
    const BilinearTap ty = bilinear_tap(oy, 0.5f, in_h), tx = bilinear_tap(ox, 0.5f, in_w);  // 2x: 1/2 per output
    float4 v = upsample2x_quad(x + n * in_h * in_w * quads, in_w, quads, q, ty, tx);
    if (acc != nullptr) {
      const float4 a = acc[i];
      v = make_float4(__fadd_rn(a.x, v.x), __fadd_rn(a.y, v.y), __fadd_rn(a.z, v.z), __fadd_rn(a.w, v.w));
    }
    y[i] = v;
  }
}

}  // namespace

cudaError_t launch_upsample2x_add(const float* x, const float* acc, const UpsampleAddShape& s, float* y,
                                  cudaStream_t stream) {
  if (s.channels % 4 != 0 || s.batch < 1 || s.in_height < 1 || s.in_width < 1) return cudaErrorInvalidValue;
  const int quads = static_cast<int>(s.channels / 4);
  const int64_t total = s.batch * 4 * s.in_height * s.in_width * quads;
  const int blocks = static_cast<int>(std::clamp<int64_t>((total + kThreads - 1) / kThreads, 1, 132 * 16));
  upsample2x_add_kernel<<<blocks, kThreads, 0, stream>>>(
      reinterpret_cast<const float4*>(x), reinterpret_cast<const float4*>(acc), s.batch, quads,
      static_cast<int>(s.in_height), static_cast<int>(s.in_width), reinterpret_cast<float4*>(y));
  return cudaGetLastError();
}

}  // namespace peaknet::model::cuda
