// Torch wrapper of the fused depthwise 7x7 conv -> LayerNorm (dwconv_layernorm.cu).
#include <stdexcept>

#include "fused_kernels.hpp"

#ifdef PEAKNET_MODEL_HAVE_CUDA
#include <c10/cuda/CUDAGuard.h>

#include "dwconv_layernorm.cuh"
#include "torch_bridge.hpp"
#endif

namespace peaknet::model {

namespace {
constexpr const char* kOp = "fused_dwconv7_layernorm";
}

bool fused_dwconv_layernorm_supports(const torch::Tensor& x, const torch::Tensor& conv_weight) {
#ifdef PEAKNET_MODEL_HAVE_CUDA
  if (!x.defined() || !conv_weight.defined() || !x.is_cuda() || x.dim() != 4 || x.numel() == 0) return false;
  const int64_t c = x.size(1);
  return x.is_contiguous(at::MemoryFormat::ChannelsLast) &&
         (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kBFloat16) &&
         conv_weight.scalar_type() == torch::kBFloat16 && conv_weight.device() == x.device() &&
         conv_weight.sizes() == torch::IntArrayRef({c, 1, 7, 7}) && c <= cuda::kDwconvLayerNormMaxChannels &&
         x.size(1) * x.size(2) * x.size(3) < (int64_t{1} << 31);
#else
  (void)x;
  (void)conv_weight;
  return false;
#endif
}

#ifdef PEAKNET_MODEL_HAVE_CUDA
torch::Tensor fused_dwconv7_layernorm(const torch::Tensor& x, const torch::Tensor& conv_weight,
                                      const torch::Tensor& conv_bias, const torch::Tensor& ln_weight,
                                      const torch::Tensor& ln_bias, double eps, torch::ScalarType out_dtype) {
  if (!fused_dwconv_layernorm_supports(x, conv_weight))
    throw std::invalid_argument(std::string(kOp) +
                                ": x must be a 4-D channels_last float32/bfloat16 CUDA tensor and conv_weight a "
                                "(C,1,7,7) bfloat16 tensor on its device");
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const auto x_type = cuda::element_type(x.scalar_type(), kOp, "x");
  const auto y_type = cuda::element_type(out_dtype, kOp, "out_dtype");
  // (C,1,7,7) -> tap-major (49, C): a warp's channels read one contiguous run per tap; fp32 (exact) so the
  // kernel loads them straight into registers.
  const torch::Tensor taps = conv_weight.reshape({c, 49}).t().to(torch::kFloat).contiguous();
  const torch::Tensor bias = conv_bias.defined()
                                 ? cuda::per_channel(conv_bias, c, torch::kBFloat16, x.device(), kOp, "conv_bias")
                                 : torch::Tensor();
  const torch::Tensor g = cuda::per_channel(ln_weight, c, torch::kFloat, x.device(), kOp, "ln_weight");
  const torch::Tensor b = cuda::per_channel(ln_bias, c, torch::kFloat, x.device(), kOp, "ln_bias");
  const c10::cuda::CUDAGuard device_guard(x.device());
  torch::Tensor y = torch::empty({n, h, w, c}, x.options().dtype(out_dtype));
  cuda::check_launch(
      cuda::launch_dwconv7_layernorm(x.data_ptr(), x_type, taps.data_ptr(), bias.defined() ? bias.data_ptr() : nullptr,
                                     g.data_ptr<float>(), b.data_ptr<float>(), static_cast<float>(eps), {n, h, w, c},
                                     y.data_ptr(), y_type, cuda::current_stream()),
      kOp);
  return y;
}
#else
torch::Tensor fused_dwconv7_layernorm(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                                      const torch::Tensor&, const torch::Tensor&, double, torch::ScalarType) {
  throw std::invalid_argument(std::string(kOp) + ": this build has no CUDA LibTorch (fused kernels unavailable)");
}
#endif

}  // namespace peaknet::model
