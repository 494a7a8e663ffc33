// Torch wrapper of the GroupNorm(+GELU) kernels (group_norm_gelu.cu).
#include <stdexcept>

#include "fused_kernels.hpp"

#ifdef PEAKNET_MODEL_HAVE_CUDA
#include <c10/cuda/CUDAGuard.h>

#include "group_norm_gelu.cuh"
#include "torch_bridge.hpp"
#endif

namespace peaknet::model {

namespace {
constexpr const char* kOp = "fused_group_norm";
}

bool fused_group_norm_supports(const torch::Tensor& x, int64_t groups) {
#ifdef PEAKNET_MODEL_HAVE_CUDA
  if (!x.defined() || !x.is_cuda() || x.dim() != 4 || x.numel() == 0 || groups < 1) return false;
  if (x.scalar_type() != torch::kFloat && x.scalar_type() != torch::kBFloat16) return false;
  const auto type = cuda::element_type(x.scalar_type(), kOp, "x");
  const int64_t c = x.size(1), vector = cuda::group_norm_vector(type);
  return x.is_contiguous(at::MemoryFormat::ChannelsLast) && c % groups == 0 && c % vector == 0 && c / vector <= 256 &&
         x.size(0) <= 65535 && reinterpret_cast<uintptr_t>(x.data_ptr()) % 16 == 0;
#else
  (void)x;
  (void)groups;
  return false;
#endif
}

#ifdef PEAKNET_MODEL_HAVE_CUDA
torch::Tensor fused_group_norm(const torch::Tensor& x, int64_t groups, const torch::Tensor& weight,
                               const torch::Tensor& bias, double eps, bool gelu, torch::ScalarType out_dtype) {
  if (!fused_group_norm_supports(x, groups))
    throw std::invalid_argument(std::string(kOp) +
                                ": x must be a 4-D channels_last float32/bfloat16 CUDA tensor whose C is a multiple "
                                "of groups and of the 16-byte vector");
  const auto type = cuda::element_type(x.scalar_type(), kOp, "x");
  const auto y_type = cuda::element_type(out_dtype, kOp, "out_dtype");
  const int64_t c = x.size(1);
  const torch::Tensor g = cuda::per_channel(weight, c, torch::kFloat, x.device(), kOp, "weight");
  const torch::Tensor b = cuda::per_channel(bias, c, torch::kFloat, x.device(), kOp, "bias");
  const cuda::GroupNormShape shape{x.size(0), x.size(2) * x.size(3), c, groups};
  const int64_t chunks = cuda::group_norm_chunks(shape, type);
  const c10::cuda::CUDAGuard device_guard(x.device());
  const cudaStream_t stream = cuda::current_stream();
  const auto f32 = x.options().dtype(torch::kFloat);
  const torch::Tensor partials = torch::empty({2, shape.batch, chunks, c}, f32);
  const torch::Tensor mean_rstd = torch::empty({shape.batch, groups, 2}, f32);
  torch::Tensor y = torch::empty(x.sizes(), x.options().dtype(out_dtype).memory_format(at::MemoryFormat::ChannelsLast));
  cuda::check_launch(
      cuda::launch_group_norm_statistics(x.data_ptr(), type, shape, chunks, partials.data_ptr<float>(), stream), kOp);
  cuda::check_launch(cuda::launch_group_norm_finalize(partials.data_ptr<float>(), shape, chunks, eps,
                                                      mean_rstd.data_ptr<float>(), stream),
                     kOp);
  cuda::check_launch(
      cuda::launch_group_norm_apply(x.data_ptr(), type, shape, mean_rstd.data_ptr<float>(), g.data_ptr<float>(),
                                    b.data_ptr<float>(), gelu, y.data_ptr(), y_type, stream),
      kOp);
  return y;
}
#else
torch::Tensor fused_group_norm(const torch::Tensor&, int64_t, const torch::Tensor&, const torch::Tensor&, double, bool,
                               torch::ScalarType) {
  throw std::invalid_argument(std::string(kOp) + ": this build has no CUDA LibTorch (fused kernels unavailable)");
}
#endif

}  // namespace peaknet::model
