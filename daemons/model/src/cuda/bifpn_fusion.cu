// BiFPN node input in one pass: the unfused forward ran upsample (fp32 temp), cast, three weighted
// multiplies, two adds, a divide, a cast and the depthwise multiply as separate ops over maps of
// 256 channels at stride 4 — about 60 bytes of HBM traffic per output element; this kernel reads each
// input once (the resampled level from L2) and writes the bf16 conv input once. Arithmetic follows the
// torch ops' dtypes and order, so the result matches the unfused path up to fp32 contraction.
#include "bifpn_fusion.cuh"

#include "device_math.cuh"

namespace peaknet::model::cuda {
namespace {

constexpr int kThreads = 256;

// w * v as a torch binary op between a 0-d fp32 weight and a tensor of `type`: the weight is cast to
// the tensor's dtype, the product is computed in fp32 and stored in that dtype.
__device__ __forceinline__ float scaled(float w, float v, ElementType type) {
  return round_to(__fmul_rn(round_to(w, type), v), type);
}
__device__ __forceinline__ ElementType promote(ElementType a, ElementType b) {
  return a == ElementType::kFloat32 || b == ElementType::kFloat32 ? ElementType::kFloat32 : ElementType::kBFloat16;
}

// V consecutive elements of a run-time-typed tensor (V == 4: one 8- or 16-byte load; the caller checks
// alignment).
template <int V>
__device__ __forceinline__ void load_vec(const void* base, ElementType type, long long i, float* out) {
  if constexpr (V == 4) {
    if (type == ElementType::kBFloat16) {
      const uint2 raw = *reinterpret_cast<const uint2*>(static_cast<const __nv_bfloat16*>(base) + i);
      const auto* h = reinterpret_cast<const __nv_bfloat162*>(&raw);
      const float2 a = __bfloat1622float2(h[0]), b = __bfloat1622float2(h[1]);
      out[0] = a.x, out[1] = a.y, out[2] = b.x, out[3] = b.y;
    } else {
      const float4 f = *reinterpret_cast<const float4*>(static_cast<const float*>(base) + i);
      out[0] = f.x, out[1] = f.y, out[2] = f.z, out[3] = f.w;
    }
  } else {
#pragma unroll
    for (int k = 0; k < V; ++k) out[k] = load_as_float(base, type, i + k);
  }
}
template <int V>
__device__ __forceinline__ void store_vec(void* base, ElementType type, long long i, const float* v) {
  if constexpr (V == 4) {
    if (type == ElementType::kBFloat16) {
      __nv_bfloat162 h[2] = {__floats2bfloat162_rn(v[0], v[1]), __floats2bfloat162_rn(v[2], v[3])};
      *reinterpret_cast<uint2*>(static_cast<__nv_bfloat16*>(base) + i) = *reinterpret_cast<const uint2*>(h);
    } else {
      *reinterpret_cast<float4*>(static_cast<float*>(base) + i) = make_float4(v[0], v[1], v[2], v[3]);
    }
  } else {
#pragma unroll
    for (int k = 0; k < V; ++k) store_from_float(base, type, i + k, v[k]);
  }
}

// One block per output row (n, y); each thread V consecutive channels of one pixel at a time.
template <int V>
__global__ void __launch_bounds__(kThreads) bifpn_fusion_kernel(BifpnFusionArgs a) {
  const int row = blockIdx.x;  // n * height + y
  const int n = row / static_cast<int>(a.height);
  const int yy = row % static_cast<int>(a.height);
  const int width = static_cast<int>(a.width), channels = static_cast<int>(a.channels);
  const int other_h = static_cast<int>(a.other_height), other_w = static_cast<int>(a.other_width);
  const BilinearTap ty = bilinear_tap(yy, a.source_per_output, other_h);
  const long long out_row = static_cast<long long>(row) * width * channels;
  const long long other_image = static_cast<long long>(n) * other_h * other_w * channels;
  const long long other_row0 = other_image + static_cast<long long>(ty.i0) * other_w * channels;
  const long long other_row1 = other_image + static_cast<long long>(ty.i1) * other_w * channels;

  float w[3];
  float denominator = 0.0f;
  for (int i = 0; i <= a.same_count; ++i) {
    w[i] = a.weights[i];
    denominator = i == 0 ? w[0] : __fadd_rn(denominator, w[i]);
  }
  denominator = __fadd_rn(denominator, a.eps);
  // Result dtypes of the torch ops: w0*same0 [+ w1*same1] + w_last*resampled, then the division.
  const ElementType two_type = a.same_count == 2 ? promote(a.same_type[0], a.same_type[1]) : a.same_type[0];
  const ElementType sum_type = promote(two_type, a.other_type);
  const float denom = round_to(denominator, sum_type);

  const int quads = channels / V;
  for (int e = threadIdx.x; e < width * quads; e += kThreads) {
    const int xx = e / quads, c = (e % quads) * V;
    const long long at_out = out_row + static_cast<long long>(xx) * channels + c;
    const BilinearTap tx = bilinear_tap(xx, a.source_per_output, other_w);
    float v00[V], v01[V], v10[V], v11[V], s0[V], s1[V], dw[V], out[V];
    load_vec<V>(a.other, a.other_type, other_row0 + static_cast<long long>(tx.i0) * channels + c, v00);
    load_vec<V>(a.other, a.other_type, other_row0 + static_cast<long long>(tx.i1) * channels + c, v01);
    load_vec<V>(a.other, a.other_type, other_row1 + static_cast<long long>(tx.i0) * channels + c, v10);
    load_vec<V>(a.other, a.other_type, other_row1 + static_cast<long long>(tx.i1) * channels + c, v11);
    load_vec<V>(a.same[0], a.same_type[0], at_out, s0);
    if (a.same_count == 2) load_vec<V>(a.same[1], a.same_type[1], at_out, s1);
    load_vec<V>(a.depthwise, a.out_type, c, dw);
#pragma unroll
    for (int k = 0; k < V; ++k) {
      // torch: h0lambda * (w0lambda * v00 + w1lambda * v01) + h1lambda * (w0lambda * v10 + w1lambda * v11)
      const float top = tx.lambda0 * v00[k] + tx.lambda1 * v01[k];
      const float bottom = tx.lambda0 * v10[k] + tx.lambda1 * v11[k];
      const float resampled = round_to(ty.lambda0 * top + ty.lambda1 * bottom, a.other_type);
      float sum = scaled(w[0], s0[k], a.same_type[0]);
      if (a.same_count == 2) sum = round_to(__fadd_rn(sum, scaled(w[1], s1[k], a.same_type[1])), two_type);
      sum = round_to(__fadd_rn(sum, scaled(w[a.same_count], resampled, a.other_type)), sum_type);
      const float fused = round_to(__fdiv_rn(sum, denom), sum_type);
      out[k] = __fmul_rn(round_to(fused, a.out_type), dw[k]);
    }
    store_vec<V>(a.y, a.out_type, at_out, out);
  }
}

bool aligned(const void* p, size_t bytes) { return p == nullptr || reinterpret_cast<uintptr_t>(p) % bytes == 0; }

}  // namespace

cudaError_t launch_bifpn_fusion(const BifpnFusionArgs& args, cudaStream_t stream) {
  if (args.same_count < 1 || args.same_count > 2 || args.channels < 1 || args.height < 1 || args.width < 1 ||
      args.other_height < 1 || args.other_width < 1 || args.batch * args.height > (1LL << 31) - 1)
    return cudaErrorInvalidValue;
  // 4 channels per thread when every tensor allows 8/16-byte accesses (C % 4 == 0, aligned bases).
  const bool vector = args.channels % 4 == 0 && aligned(args.same[0], 16) && aligned(args.same[1], 16) &&
                      aligned(args.other, 16) && aligned(args.depthwise, 16) && aligned(args.y, 16);
  const unsigned blocks = static_cast<unsigned>(args.batch * args.height);
  if (vector) bifpn_fusion_kernel<4><<<blocks, kThreads, 0, stream>>>(args);
  else bifpn_fusion_kernel<1><<<blocks, kThreads, 0, stream>>>(args);
  return cudaGetLastError();
}

}  // namespace peaknet::model::cuda
