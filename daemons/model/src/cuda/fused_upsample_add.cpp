// Torch wrapper of the head's upsample2x(+add) kernel (upsample_add.cu).
#include <stdexcept>

#include "fused_kernels.hpp"
#include "tensor_checks.hpp"

#ifdef PEAKNET_MODEL_HAVE_CUDA
#include <c10/cuda/CUDAGuard.h>

#include "torch_bridge.hpp"
#include "upsample_add.cuh"
#endif

namespace peaknet::model {

namespace {
constexpr const char* kOp = "fused_upsample2x_add";
}  // namespace

bool fused_upsample2x_add_supports(const torch::Tensor& x, const torch::Tensor& acc) {
  if (!fused_kernels_built() || !fp32_channels_last(x) || x.size(1) % 4 != 0) return false;
  if (!acc.defined()) return true;
  return fp32_channels_last(acc) && acc.device() == x.device() && acc.size(0) == x.size(0) &&
         acc.size(1) == x.size(1) && acc.size(2) == 2 * x.size(2) && acc.size(3) == 2 * x.size(3);
}

#ifdef PEAKNET_MODEL_HAVE_CUDA
torch::Tensor fused_upsample2x_add(const torch::Tensor& x, const torch::Tensor& acc) {
  if (!fused_upsample2x_add_supports(x, acc))
    throw std::invalid_argument(std::string(kOp) +
                                ": x must be a 4-D channels_last float32 CUDA tensor with C % 4 == 0, acc undefined "
                                "or of x's size doubled");
  const c10::cuda::CUDAGuard device_guard(x.device());
  torch::Tensor y = torch::empty({x.size(0), x.size(1), 2 * x.size(2), 2 * x.size(3)},
                                 x.options().memory_format(at::MemoryFormat::ChannelsLast));
  cuda::check_launch(cuda::launch_upsample2x_add(x.data_ptr<float>(), acc.defined() ? acc.data_ptr<float>() : nullptr,
                                                 {x.size(0), x.size(1), x.size(2), x.size(3)}, y.data_ptr<float>(),
                                                 cuda::current_stream()),
                     kOp);
  return y;
}
#else
torch::Tensor fused_upsample2x_add(const torch::Tensor&, const torch::Tensor&) {
  throw std::invalid_argument(std::string(kOp) + ": this build has no CUDA LibTorch (fused kernels unavailable)");
}
#endif

}  // namespace peaknet::model
