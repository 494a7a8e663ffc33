// Torch wrapper of the row LayerNorm (+GELU, +residual) kernel (layernorm_rows.cu).
#include <stdexcept>

#include "fused_kernels.hpp"
#include "tensor_checks.hpp"

#ifdef PEAKNET_MODEL_HAVE_CUDA
#include <c10/cuda/CUDAGuard.h>

#include "layernorm_rows.cuh"
#include "torch_bridge.hpp"
#endif

namespace peaknet::model {

namespace {
constexpr const char* kOp = "fused_layernorm";

// (N,C,H,W) channels_last viewed as (N,H,W,C) rows.
torch::Tensor rows_view(const torch::Tensor& t) { return t.permute({0, 2, 3, 1}); }
}  // namespace

bool fused_layernorm_supports(const torch::Tensor& x) {
#ifdef PEAKNET_MODEL_HAVE_CUDA
  return x.defined() && x.is_cuda() && x.dim() >= 1 && x.numel() > 0 && x.is_contiguous() && float_or_bf16(x) &&
         x.size(-1) <= cuda::kLayerNormRowsMaxChannels;
#else
  (void)x;
  return false;
#endif
}

bool fused_layernorm_channels_first_supports(const torch::Tensor& x, const torch::Tensor& residual) {
  if (!x.defined() || x.dim() != 4 || !fused_layernorm_supports(rows_view(x))) return false;
  if (!residual.defined()) return true;
  return residual.sizes() == x.sizes() && residual.device() == x.device() && float_or_bf16(residual) &&
         rows_view(residual).is_contiguous();
}

#ifdef PEAKNET_MODEL_HAVE_CUDA
torch::Tensor fused_layernorm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                              double eps, bool gelu, const torch::Tensor& residual, torch::ScalarType out_dtype) {
  if (!fused_layernorm_supports(x))
    throw std::invalid_argument(std::string(kOp) +
                                ": x must be a contiguous float32/bfloat16 CUDA tensor with last dim <= 1024");
  const int64_t c = x.size(-1);
  cuda::LayerNormRowsArgs args;
  args.x_type = cuda::element_type(x.scalar_type(), kOp, "x");
  args.y_type = cuda::element_type(out_dtype, kOp, "out_dtype");
  const torch::Tensor g = cuda::per_channel(weight, c, torch::kFloat, x.device(), kOp, "weight");
  const torch::Tensor b = cuda::per_channel(bias, c, torch::kFloat, x.device(), kOp, "bias");
  if (residual.defined()) {
    if (residual.sizes() != x.sizes() || residual.device() != x.device() || !residual.is_contiguous())
      throw std::invalid_argument(std::string(kOp) + ": residual must be a contiguous tensor of x's shape on " +
                                  x.device().str());
    args.residual = residual.data_ptr();
    args.residual_type = cuda::element_type(residual.scalar_type(), kOp, "residual");
  }
  const c10::cuda::CUDAGuard device_guard(x.device());
  torch::Tensor y = torch::empty(x.sizes(), x.options().dtype(out_dtype));
  args.x = x.data_ptr();
  args.rows = x.numel() / c;
  args.channels = c;
  args.weight = g.data_ptr<float>();
  args.bias = b.data_ptr<float>();
  args.eps = static_cast<float>(eps);
  args.gelu = gelu;
  args.y = y.data_ptr();
  cuda::check_launch(cuda::launch_layernorm_rows(args, cuda::current_stream()), kOp);
  return y;
}
#else
torch::Tensor fused_layernorm(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&, double, bool,
                              const torch::Tensor&, torch::ScalarType) {
  throw std::invalid_argument(std::string(kOp) + ": this build has no CUDA LibTorch (fused kernels unavailable)");
}
#endif

torch::Tensor fused_layernorm_channels_first(const torch::Tensor& x, const torch::Tensor& weight,
                                             const torch::Tensor& bias, double eps, bool gelu,
                                             const torch::Tensor& residual, torch::ScalarType out_dtype) {
  if (!fused_layernorm_channels_first_supports(x, residual))
    throw std::invalid_argument(std::string(kOp) +
                                ": x (and residual) must be 4-D channels_last float32/bfloat16 CUDA tensors");
  const torch::Tensor res = residual.defined() ? rows_view(residual) : torch::Tensor();
  return fused_layernorm(rows_view(x), weight, bias, eps, gelu, res, out_dtype).permute({0, 3, 1, 2});
}

}  // namespace peaknet::model
