#include "fused_grn.hpp"

#include <stdexcept>
#include <string>

#ifdef PEAKNET_MODEL_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "fused_grn.cuh"
#include "torch_bridge.hpp"
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
constexpr const char* kOp = "fused_gelu_grn";
constexpr const char* kFactorOp = "fused_gelu_grn_factor";

// The statistics and scale passes: Nx as (N, C) fp32. gelu_out: x itself (store GELU(x) in place) or null.
torch::Tensor grn_factor(const torch::Tensor& x, cuda::ElementType type, bool apply_gelu, void* gelu_out, double eps,
                         const char* op) {
  const cudaStream_t stream = cuda::current_stream();
  const cuda::GrnShape shape{x.size(0), x.size(1) * x.size(2), x.size(3)};
  const int64_t chunks = cuda::grn_stat_chunks(shape, type);
  const auto f32 = x.options().dtype(torch::kFloat);
  const torch::Tensor partials = torch::empty({shape.batch, chunks, shape.channels}, f32);
  torch::Tensor factor = torch::empty({shape.batch, shape.channels}, f32);
  cuda::check_launch(cuda::launch_grn_statistics(x.data_ptr(), type, apply_gelu, shape, chunks,
                                                 partials.data_ptr<float>(), stream, gelu_out),
                     op);
  cuda::check_launch(
      cuda::launch_grn_scale(partials.data_ptr<float>(), shape, chunks, eps, factor.data_ptr<float>(), stream), op);
  return factor;
}
}  // namespace

torch::Tensor fused_gelu_grn(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta,
                             bool apply_gelu, double eps, torch::ScalarType out_dtype, bool overwrite_x) {
  if (!fused_grn_supports(x))
    throw std::invalid_argument("fused_gelu_grn: x must be a contiguous 4-D (N,H,W,C) float32/bfloat16 CUDA tensor");
  const auto in_type = cuda::element_type(x.scalar_type(), kOp, "x");
  const auto out_type = cuda::element_type(out_dtype, kOp, "out_dtype");
  const torch::Tensor g = cuda::per_channel(gamma, x.size(3), torch::kFloat, x.device(), kOp, "gamma");
  const torch::Tensor b = cuda::per_channel(beta, x.size(3), torch::kFloat, x.device(), kOp, "beta");
  const c10::cuda::CUDAGuard device_guard(x.device());
  const cuda::GrnShape shape{x.size(0), x.size(1) * x.size(2), x.size(3)};
  const bool store_gelu = overwrite_x && apply_gelu && cuda::grn_statistics_stores_gelu(x.data_ptr(), in_type, shape);
  const torch::Tensor scale = grn_factor(x, in_type, apply_gelu, store_gelu ? x.data_ptr() : nullptr, eps, kOp);
  torch::Tensor y = torch::empty(x.sizes(), x.options().dtype(out_dtype));
  cuda::check_launch(
      cuda::launch_grn_apply(x.data_ptr(), in_type, apply_gelu && !store_gelu, shape, scale.data_ptr<float>(),
                             g.data_ptr<float>(), b.data_ptr<float>(), y.data_ptr(), out_type, cuda::current_stream()),
      kOp);
  return y;
}

torch::Tensor fused_gelu_grn_factor(const torch::Tensor& x, double eps) {
  if (!fused_gelu_grn_factor_supports(x))
    throw std::invalid_argument(
        "fused_gelu_grn_factor: x must be a contiguous, 16-byte aligned 4-D (N,H,W,C) float32/bfloat16 CUDA tensor "
        "with C a multiple of 8 (bf16) or 4 (fp32) and at most 1024 such groups");
  const auto type = cuda::element_type(x.scalar_type(), kFactorOp, "x");
  const c10::cuda::CUDAGuard device_guard(x.device());
  return grn_factor(x, type, /*apply_gelu=*/true, x.data_ptr(), eps, kFactorOp);
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
