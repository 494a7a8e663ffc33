// Torch wrapper of the BiFPN node-input kernel (bifpn_fusion.cu).
#include <cmath>
#include <stdexcept>

#include "fused_kernels.hpp"

#ifdef PEAKNET_MODEL_HAVE_CUDA
#include <c10/cuda/CUDAGuard.h>

#include "bifpn_fusion.cuh"
#include "torch_bridge.hpp"
#endif

namespace peaknet::model {

namespace {
constexpr const char* kOp = "fused_bifpn_fusion";

bool channels_last_map(const torch::Tensor& t, const torch::Tensor& like) {
  return t.defined() && t.is_cuda() && t.dim() == 4 && t.device() == like.device() &&
         (t.scalar_type() == torch::kFloat || t.scalar_type() == torch::kBFloat16) &&
         t.is_contiguous(at::MemoryFormat::ChannelsLast) && t.numel() > 0;
}
// upsample_bilinear2d's output size for a scale factor: floor(in * scale).
int64_t scaled_size(int64_t in, double scale) {
  return static_cast<int64_t>(std::floor(static_cast<double>(in) * scale));
}
}  // namespace

bool fused_bifpn_fusion_supports(const std::vector<torch::Tensor>& same, const torch::Tensor& other,
                                 double scale_factor, const torch::Tensor& depthwise_weight) {
  if (!fused_kernels_built() || same.empty() || same.size() > 2 || !channels_last_map(same[0], same[0])) return false;
  const auto& ref = same[0];
  for (const auto& t : same)
    if (!channels_last_map(t, ref) || t.sizes() != ref.sizes()) return false;
  if (!channels_last_map(other, ref) || other.size(0) != ref.size(0) || other.size(1) != ref.size(1)) return false;
  if (scaled_size(other.size(2), scale_factor) != ref.size(2) ||
      scaled_size(other.size(3), scale_factor) != ref.size(3))
    return false;
  return depthwise_weight.defined() && depthwise_weight.device() == ref.device() &&
         depthwise_weight.numel() == ref.size(1) &&
         (depthwise_weight.scalar_type() == torch::kFloat || depthwise_weight.scalar_type() == torch::kBFloat16) &&
         ref.size(0) * ref.size(2) < (int64_t{1} << 31) && ref.size(1) * ref.size(3) < (int64_t{1} << 31);
}

#ifdef PEAKNET_MODEL_HAVE_CUDA
torch::Tensor fused_bifpn_fusion(const std::vector<torch::Tensor>& same, const torch::Tensor& other,
                                 double scale_factor, const torch::Tensor& weights, double eps,
                                 const torch::Tensor& depthwise_weight) {
  if (!fused_bifpn_fusion_supports(same, other, scale_factor, depthwise_weight))
    throw std::invalid_argument(std::string(kOp) +
                                ": expected 1-2 same-level maps and a neighbouring level (scale 2 or 0.5) as "
                                "channels_last float32/bfloat16 CUDA tensors and C depthwise weights");
  const auto& ref = same[0];
  const int64_t count = static_cast<int64_t>(same.size());
  const torch::Tensor w = cuda::per_channel(weights, count + 1, torch::kFloat, ref.device(), kOp, "weights");
  const torch::Tensor dw = depthwise_weight.reshape({ref.size(1)}).contiguous();
  cuda::BifpnFusionArgs args;
  args.batch = ref.size(0);
  args.channels = ref.size(1);
  args.height = ref.size(2);
  args.width = ref.size(3);
  args.same_count = static_cast<int>(count);
  for (int64_t i = 0; i < count; ++i) {
    args.same[i] = same[static_cast<size_t>(i)].data_ptr();
    args.same_type[i] = cuda::element_type(same[static_cast<size_t>(i)].scalar_type(), kOp, "same-level map");
  }
  args.other = other.data_ptr();
  args.other_type = cuda::element_type(other.scalar_type(), kOp, "other");
  args.other_height = other.size(2);
  args.other_width = other.size(3);
  args.source_per_output = static_cast<float>(1.0 / scale_factor);  // torch: 1/scale when a scale is given
  args.weights = w.data_ptr<float>();
  args.eps = static_cast<float>(eps);
  args.depthwise = dw.data_ptr();
  args.out_type = cuda::element_type(dw.scalar_type(), kOp, "depthwise_weight");
  const c10::cuda::CUDAGuard device_guard(ref.device());
  torch::Tensor y =
      torch::empty(ref.sizes(), ref.options().dtype(dw.scalar_type()).memory_format(at::MemoryFormat::ChannelsLast));
  args.y = y.data_ptr();
  cuda::check_launch(cuda::launch_bifpn_fusion(args, cuda::current_stream()), kOp);
  return y;
}
#else
torch::Tensor fused_bifpn_fusion(const std::vector<torch::Tensor>&, const torch::Tensor&, double, const torch::Tensor&,
                                 double, const torch::Tensor&) {
  throw std::invalid_argument(std::string(kOp) + ": this build has no CUDA LibTorch (fused kernels unavailable)");
}
#endif

}  // namespace peaknet::model
