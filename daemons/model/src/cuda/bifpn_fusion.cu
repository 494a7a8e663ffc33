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

// torch's bilinear source index (align_corners=False): clamped at 0, neighbour clamped at the edge.
struct Tap {
  int i0, i1;               // the two source indices
  float lambda0, lambda1;   // their weights (1 - frac, frac)
};
__device__ __forceinline__ Tap source_tap(int dst, float ratio, int in_size) {
  float src = ratio * (static_cast<float>(dst) + 0.5f) - 0.5f;
  if (src < 0.0f) src = 0.0f;
  const int i0 = static_cast<int>(src);
  const int i1 = i0 + (i0 < in_size - 1 ? 1 : 0);
  const float frac = src - static_cast<float>(i0);
  return {i0, i1, 1.0f - frac, frac};
}

// w * v as a torch binary op between a 0-d fp32 weight and a tensor of `type`: the weight is cast to
// the tensor's dtype, the product is computed in fp32 and stored in that dtype.
__device__ __forceinline__ float scaled(float w, float v, ElementType type) {
  return round_to(__fmul_rn(round_to(w, type), v), type);
}
__device__ __forceinline__ ElementType promote(ElementType a, ElementType b) {
  return a == ElementType::kFloat32 || b == ElementType::kFloat32 ? ElementType::kFloat32 : ElementType::kBFloat16;
}

__global__ void __launch_bounds__(kThreads) bifpn_fusion_kernel(BifpnFusionArgs a) {
  const int row = blockIdx.x;  // n * height + y
  const int n = row / static_cast<int>(a.height);
  const int yy = row % static_cast<int>(a.height);
  const int width = static_cast<int>(a.width), channels = static_cast<int>(a.channels);
  const int other_h = static_cast<int>(a.other_height), other_w = static_cast<int>(a.other_width);
  const Tap ty = source_tap(yy, a.source_per_output, other_h);
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

  for (int e = threadIdx.x; e < width * channels; e += kThreads) {
    const int xx = e / channels, c = e % channels;
    const Tap tx = source_tap(xx, a.source_per_output, other_w);
    const auto at = [&](long long row_base, int col) {
      return load_as_float(a.other, a.other_type, row_base + static_cast<long long>(col) * channels + c);
    };
    // torch: h0lambda * (w0lambda * v00 + w1lambda * v01) + h1lambda * (w0lambda * v10 + w1lambda * v11)
    const float top = tx.lambda0 * at(other_row0, tx.i0) + tx.lambda1 * at(other_row0, tx.i1);
    const float bottom = tx.lambda0 * at(other_row1, tx.i0) + tx.lambda1 * at(other_row1, tx.i1);
    const float resampled = round_to(ty.lambda0 * top + ty.lambda1 * bottom, a.other_type);

    float sum = scaled(w[0], load_as_float(a.same[0], a.same_type[0], out_row + e), a.same_type[0]);
    ElementType sum_type = a.same_type[0];
    if (a.same_count == 2) {
      const float t = scaled(w[1], load_as_float(a.same[1], a.same_type[1], out_row + e), a.same_type[1]);
      sum_type = promote(sum_type, a.same_type[1]);
      sum = round_to(__fadd_rn(sum, t), sum_type);
    }
    const float t_other = scaled(w[a.same_count], resampled, a.other_type);
    sum_type = promote(sum_type, a.other_type);
    sum = round_to(__fadd_rn(sum, t_other), sum_type);
    const float fused = round_to(__fdiv_rn(sum, round_to(denominator, sum_type)), sum_type);
    const float dw = load_as_float(a.depthwise, a.out_type, c);
    store_from_float(a.y, a.out_type, out_row + e, __fmul_rn(round_to(fused, a.out_type), dw));
  }
}

}  // namespace

cudaError_t launch_bifpn_fusion(const BifpnFusionArgs& args, cudaStream_t stream) {
  if (args.same_count < 1 || args.same_count > 2 || args.channels < 1 || args.height < 1 || args.width < 1 ||
      args.other_height < 1 || args.other_width < 1 || args.batch * args.height > (1LL << 31) - 1)
    return cudaErrorInvalidValue;
  bifpn_fusion_kernel<<<static_cast<unsigned>(args.batch * args.height), kThreads, 0, stream>>>(args);
  return cudaGetLastError();
}

}  // namespace peaknet::model::cuda
