// Torch wrapper of the head's upsample + sum + segmask 1x1 conv kernel (head_sum_segmask.cu).
#include <stdexcept>

#include "fused_kernels.hpp"
#include "tensor_checks.hpp"

#ifdef PEAKNET_MODEL_HAVE_CUDA
#include <c10/cuda/CUDAGuard.h>

#include "head_sum_segmask.cuh"
#include "torch_bridge.hpp"
#endif

namespace peaknet::model {

namespace {
constexpr const char* kOp = "fused_head_sum_segmask";
constexpr int64_t kMaxCoarse = 3, kMaxClasses = 4, kMaxChannels = 1024;  // head_sum_segmask.cuh's limits
}  // namespace

bool fused_head_sum_segmask_supports(const torch::Tensor& finest, const std::vector<torch::Tensor>& coarse,
                                     const torch::Tensor& weight, const torch::Tensor& bias) {
  if (!fused_kernels_built() || !fp32_channels_last(finest)) return false;
  const int64_t n = finest.size(0), c = finest.size(1), h = finest.size(2), w = finest.size(3);
  if (c % 4 != 0 || c > kMaxChannels || h % 2 != 0 || w % 2 != 0 || static_cast<int64_t>(coarse.size()) > kMaxCoarse)
    return false;
  for (const auto& m : coarse) {
    if (!fp32_channels_last(m) || m.device() != finest.device() || m.size(0) != n || m.size(1) != c ||
        m.size(2) * 2 != h || m.size(3) * 2 != w)
      return false;
  }
  const bool weight_ok = weight.defined() && weight.scalar_type() == torch::kBFloat16 && weight.dim() == 4 &&
                         weight.size(0) >= 1 && weight.size(0) <= kMaxClasses && weight.size(1) == c &&
                         weight.size(2) == 1 && weight.size(3) == 1 && weight.device() == finest.device();
  const bool bias_ok = !bias.defined() || (bias.scalar_type() == torch::kBFloat16 && bias.numel() == weight.size(0) &&
                                           bias.device() == finest.device());
  return weight_ok && bias_ok;
}

#ifdef PEAKNET_MODEL_HAVE_CUDA
torch::Tensor fused_head_sum_segmask(const torch::Tensor& finest, const std::vector<torch::Tensor>& coarse,
                                     const torch::Tensor& weight, const torch::Tensor& bias) {
  if (!fused_head_sum_segmask_supports(finest, coarse, weight, bias))
    throw std::invalid_argument(std::string(kOp) +
                                ": finest must be a 4-D channels_last float32 CUDA map (C % 4 == 0, C <= 1024, even H "
                                "and W), at most 3 coarse maps of its size halved, weight (K<=4, C, 1, 1) bfloat16, "
                                "bias K bfloat16 values or none");
  const c10::cuda::CUDAGuard device_guard(finest.device());
  const int64_t k = weight.size(0);
  const torch::Tensor w = weight.reshape({k, finest.size(1)}).contiguous();
  const torch::Tensor b = bias.defined() ? bias.reshape({k}).contiguous() : torch::Tensor();
  const auto options = finest.options().dtype(torch::kBFloat16).memory_format(at::MemoryFormat::ChannelsLast);
  torch::Tensor logits = torch::empty({finest.size(0), k, finest.size(2), finest.size(3)}, options);
  const float* maps[kMaxCoarse] = {};
  for (size_t i = 0; i < coarse.size(); ++i) maps[i] = coarse[i].data_ptr<float>();
  const cuda::HeadSumSegmaskShape shape{
      finest.size(0),     finest.size(2), finest.size(3), finest.size(1), static_cast<int>(coarse.size()),
      static_cast<int>(k)};
  const auto* bias_ptr = b.defined() ? reinterpret_cast<const __nv_bfloat16*>(b.data_ptr()) : nullptr;
  cuda::check_launch(cuda::launch_head_sum_segmask(
                         finest.data_ptr<float>(), maps, shape, reinterpret_cast<const __nv_bfloat16*>(w.data_ptr()),
                         bias_ptr, reinterpret_cast<__nv_bfloat16*>(logits.data_ptr()), cuda::current_stream()),
                     kOp);
  return logits;
}
#else
torch::Tensor fused_head_sum_segmask(const torch::Tensor&, const std::vector<torch::Tensor>&, const torch::Tensor&,
                                     const torch::Tensor&) {
  throw std::invalid_argument(std::string(kOp) + ": this build has no CUDA LibTorch (fused kernels unavailable)");
}
#endif

}  // namespace peaknet::model
