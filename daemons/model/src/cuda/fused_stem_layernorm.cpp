// Torch wrapper of the fused stem: 4x4 stride-4 patch conv -> embeddings LayerNorm (stem_layernorm.cu).
#include <stdexcept>

#include "fused_kernels.hpp"
#include "tensor_checks.hpp"

#ifdef PEAKNET_MODEL_HAVE_CUDA
#include <c10/cuda/CUDAGuard.h>

#include "stem_layernorm.cuh"
#include "torch_bridge.hpp"
#endif

namespace peaknet::model {

namespace {
constexpr const char* kOp = "fused_stem_conv4x4_layernorm";
}  // namespace

bool fused_stem_layernorm_supports(const torch::Tensor& x, const torch::Tensor& conv_weight) {
#ifdef PEAKNET_MODEL_HAVE_CUDA
  // A one-channel NCHW tensor is also channels_last: the helper checks CUDA, 4-D, non-empty, 16-byte start.
  if (!aligned_channels_last_cuda(x) || !conv_weight.defined() || conv_weight.dim() != 4) return false;
  const int64_t c = conv_weight.size(0);
  return x.size(1) == 1 && x.size(2) % 4 == 0 && x.size(3) % 4 == 0 && float_or_bf16(x) &&
         conv_weight.scalar_type() == torch::kBFloat16 && conv_weight.device() == x.device() &&
         conv_weight.sizes() == torch::IntArrayRef({c, 1, 4, 4}) && c <= cuda::kStemMaxChannels &&
         x.size(2) * x.size(3) < (int64_t{1} << 31);
#else
  (void)x;
  (void)conv_weight;
  return false;
#endif
}

#ifdef PEAKNET_MODEL_HAVE_CUDA
torch::Tensor fused_stem_conv4x4_layernorm(const torch::Tensor& x, const torch::Tensor& conv_weight,
                                           const torch::Tensor& conv_bias, const torch::Tensor& ln_weight,
                                           const torch::Tensor& ln_bias, double eps) {
  if (!fused_stem_layernorm_supports(x, conv_weight))
    throw std::invalid_argument(
        std::string(kOp) +
        ": x must be a contiguous (N,1,H,W) float32/bfloat16 CUDA tensor with H, W multiples of "
        "4 and conv_weight a (C,1,4,4) bfloat16 tensor on its device, C <= 128");
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3), c = conv_weight.size(0);
  const torch::Tensor weight = conv_weight.reshape({c * 16}).to(torch::kFloat).contiguous();  // exact
  const torch::Tensor bias =
      conv_bias.defined()
          ? cuda::per_channel(conv_bias, c, torch::kBFloat16, x.device(), kOp, "conv_bias").to(torch::kFloat)
          : torch::Tensor();
  const torch::Tensor g = cuda::per_channel(ln_weight, c, torch::kFloat, x.device(), kOp, "ln_weight");
  const torch::Tensor b = cuda::per_channel(ln_bias, c, torch::kFloat, x.device(), kOp, "ln_bias");
  const c10::cuda::CUDAGuard device_guard(x.device());
  // (N, H/4, W/4, C) memory viewed as NCHW channels_last: what the unfused LayerNorm hands stage 0.
  torch::Tensor y = torch::empty({n, c, h / 4, w / 4},
                                 x.options().dtype(torch::kFloat).memory_format(at::MemoryFormat::ChannelsLast));
  cuda::check_launch(cuda::launch_stem_conv4x4_layernorm(
                         x.data_ptr(), cuda::element_type(x.scalar_type(), kOp, "x"), weight.data_ptr<float>(),
                         bias.defined() ? bias.data_ptr<float>() : nullptr, g.data_ptr<float>(), b.data_ptr<float>(),
                         static_cast<float>(eps), {n, h, w, c}, y.data_ptr<float>(), cuda::current_stream()),
                     kOp);
  return y;
}
#else
torch::Tensor fused_stem_conv4x4_layernorm(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                                           const torch::Tensor&, const torch::Tensor&, double) {
  throw std::invalid_argument(std::string(kOp) + ": this build has no CUDA LibTorch (fused kernels unavailable)");
}
#endif

}  // namespace peaknet::model
