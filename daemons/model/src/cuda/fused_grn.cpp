#include "fused_grn.hpp"

#include <stdexcept>
#include <string>

#ifdef PEAKNET_MODEL_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "fused_grn.cuh"
#endif

namespace peaknet::model {

bool fused_grn_built() {
#ifdef PEAKNET_MODEL_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

bool fused_grn_supports(const torch::Tensor& x) {
  return fused_grn_built() && x.defined() && x.is_cuda() && x.dim() == 4 && x.is_contiguous() &&
         (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kBFloat16) && x.numel() > 0;
}

bool fused_gelu_grn_factor_supports(const torch::Tensor& x) {
#ifdef PEAKNET_MODEL_HAVE_CUDA
  if (!fused_grn_supports(x)) return false;
  const auto type = x.scalar_type() == torch::kFloat ? cuda::ElementType::kFloat32 : cuda::ElementType::kBFloat16;
  return cuda::grn_statistics_stores_gelu(x.data_ptr(), type, {x.size(0), x.size(1) * x.size(2), x.size(3)});
#else
  (void)x;
  return false;
#endif
}

#ifdef PEAKNET_MODEL_HAVE_CUDA
namespace {

cuda::ElementType element_type(torch::ScalarType t, const char* what) {
  if (t == torch::kFloat) return cuda::ElementType::kFloat32;
  if (t == torch::kBFloat16) return cuda::ElementType::kBFloat16;
  throw std::invalid_argument(std::string("fused_gelu_grn: ") + what + " must be float32 or bfloat16, got " +
                              std::string(c10::toString(t)));
}

void check(cudaError_t status, const char* pass) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string("fused_gelu_grn: ") + pass + " launch failed: " + cudaGetErrorString(status));
}

torch::Tensor per_channel(const torch::Tensor& t, const torch::Tensor& x, const char* what) {
  if (t.numel() != x.size(3) || t.scalar_type() != torch::kFloat || t.device() != x.device())
    throw std::invalid_argument(std::string("fused_gelu_grn: ") + what + " must hold C = " +
                                std::to_string(x.size(3)) + " float32 values on " + x.device().str());
  return t.contiguous();
}

}  // namespace

torch::Tensor fused_gelu_grn(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta,
                             bool apply_gelu, double eps, torch::ScalarType out_dtype, bool overwrite_x) {
  if (!fused_grn_supports(x))
    throw std::invalid_argument("fused_gelu_grn: x must be a contiguous 4-D (N,H,W,C) float32/bfloat16 CUDA tensor");
  const auto in_type = element_type(x.scalar_type(), "x");
  const auto out_type = element_type(out_dtype, "out_dtype");
  const torch::Tensor g = per_channel(gamma, x, "gamma");
  const torch::Tensor b = per_channel(beta, x, "beta");
  const c10::cuda::CUDAGuard device_guard(x.device());
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  const cuda::GrnShape shape{x.size(0), x.size(1) * x.size(2), x.size(3)};
  const int64_t chunks = cuda::grn_stat_chunks(shape, in_type);
  const auto f32 = x.options().dtype(torch::kFloat);
  const torch::Tensor partials = torch::empty({shape.batch, chunks, shape.channels}, f32);
  const torch::Tensor scale = torch::empty({shape.batch, shape.channels}, f32);
  torch::Tensor y = torch::empty(x.sizes(), x.options().dtype(out_dtype));
  const bool store_gelu = overwrite_x && apply_gelu && cuda::grn_statistics_stores_gelu(x.data_ptr(), in_type, shape);
  check(cuda::launch_grn_statistics(x.data_ptr(), in_type, apply_gelu, shape, chunks, partials.data_ptr<float>(),
                                    stream, store_gelu ? x.data_ptr() : nullptr),
        "statistics");
  check(cuda::launch_grn_scale(partials.data_ptr<float>(), shape, chunks, eps, scale.data_ptr<float>(), stream),
        "scale");
  check(cuda::launch_grn_apply(x.data_ptr(), in_type, apply_gelu && !store_gelu, shape, scale.data_ptr<float>(),
                               g.data_ptr<float>(), b.data_ptr<float>(), y.data_ptr(), out_type, stream),
        "apply");
  return y;
}
torch::Tensor fused_gelu_grn_factor(const torch::Tensor& x, double eps) {
  if (!fused_gelu_grn_factor_supports(x))
    throw std::invalid_argument(
        "fused_gelu_grn_factor: x must be a contiguous, 16-byte aligned 4-D (N,H,W,C) float32/bfloat16 CUDA tensor "
        "with C a multiple of 8 (bf16) or 4 (fp32) and at most 1024 such groups");
  const auto type = element_type(x.scalar_type(), "x");
  const c10::cuda::CUDAGuard device_guard(x.device());
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  const cuda::GrnShape shape{x.size(0), x.size(1) * x.size(2), x.size(3)};
  const int64_t chunks = cuda::grn_stat_chunks(shape, type);
  const auto f32 = x.options().dtype(torch::kFloat);
  const torch::Tensor partials = torch::empty({shape.batch, chunks, shape.channels}, f32);
  torch::Tensor factor = torch::empty({shape.batch, shape.channels}, f32);
  check(cuda::launch_grn_statistics(x.data_ptr(), type, /*apply_gelu=*/true, shape, chunks, partials.data_ptr<float>(),
                                    stream, x.data_ptr()),
        "statistics");
  check(cuda::launch_grn_scale(partials.data_ptr<float>(), shape, chunks, eps, factor.data_ptr<float>(), stream),
        "scale");
  return factor;
}
#else
torch::Tensor fused_gelu_grn_factor(const torch::Tensor&, double) {
  throw std::invalid_argument("fused_gelu_grn_factor: this build has no CUDA LibTorch (fused kernels unavailable)");
}
torch::Tensor fused_gelu_grn(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&, bool, double,
                             torch::ScalarType, bool) {
  throw std::invalid_argument("fused_gelu_grn: this build has no CUDA LibTorch (fused kernels unavailable)");
}
#endif

}  // namespace peaknet::model
