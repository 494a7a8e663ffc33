// Torch wrapper of the ConvNeXt layer's residual + (projection + bias) kernel (residual_bias_add.cu).
#include <stdexcept>

#include "fused_kernels.hpp"
#include "tensor_checks.hpp"

#ifdef PEAKNET_MODEL_HAVE_CUDA
#include <c10/cuda/CUDAGuard.h>

#include "residual_bias_add.cuh"
#include "torch_bridge.hpp"
#endif

namespace peaknet::model {

namespace {
constexpr const char* kOp = "fused_residual_bias_add";

bool aligned_channels_last(const torch::Tensor& t) { return aligned_channels_last_cuda(t) && float_or_bf16(t); }
}  // namespace

bool fused_residual_bias_add_supports(const torch::Tensor& residual, const torch::Tensor& x,
                                      const torch::Tensor& bias) {
  if (!fused_kernels_built() || !aligned_channels_last(residual) || !aligned_channels_last(x)) return false;
  if (residual.sizes() != x.sizes() || residual.device() != x.device() || residual.size(1) % 4 != 0) return false;
  // bf16 residual + fp32 x promotes to fp32, which the kernel writes; every pairing of the two types is taken.
  return bias.defined() && bias.numel() == residual.size(1) && bias.scalar_type() == torch::kFloat &&
         bias.device() == residual.device();
}

#ifdef PEAKNET_MODEL_HAVE_CUDA
torch::Tensor fused_residual_bias_add(const torch::Tensor& residual, const torch::Tensor& x,
                                      const torch::Tensor& bias) {
  if (!fused_residual_bias_add_supports(residual, x, bias))
    throw std::invalid_argument(std::string(kOp) +
                                ": residual and x must be equal-size 4-D channels_last float32/bfloat16 CUDA tensors "
                                "with C % 4 == 0, bias C float32 values on their device");
  const c10::cuda::CUDAGuard device_guard(residual.device());
  const torch::ScalarType out_dtype = at::result_type(residual, x);
  const torch::Tensor b = bias.reshape({residual.size(1)}).contiguous();
  torch::Tensor y =
      torch::empty(residual.sizes(), residual.options().dtype(out_dtype).memory_format(at::MemoryFormat::ChannelsLast));
  cuda::check_launch(
      cuda::launch_residual_bias_add(residual.data_ptr(), cuda::element_type(residual.scalar_type(), kOp, "residual"),
                                     x.data_ptr(), cuda::element_type(x.scalar_type(), kOp, "x"), b.data_ptr<float>(),
                                     {residual.numel(), residual.size(1)}, y.data_ptr(),
                                     cuda::element_type(out_dtype, kOp, "output"), cuda::current_stream()),
      kOp);
  return y;
}
#else
torch::Tensor fused_residual_bias_add(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&) {
  throw std::invalid_argument(std::string(kOp) + ": this build has no CUDA LibTorch (fused kernels unavailable)");
}
#endif

}  // namespace peaknet::model
