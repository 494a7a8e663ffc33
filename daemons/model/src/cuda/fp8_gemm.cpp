// fp8 GEMMs (fp8_gemm.hpp): the activation quantiser (fp8_quantize.cu) + at::_scaled_mm.
#include "fp8_gemm.hpp"

#include <atomic>
#include <stdexcept>
#include <string>

#include <torch/version.h>

#if defined(PEAKNET_MODEL_HAVE_CUDA) && (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5))
#define PEAKNET_MODEL_HAVE_FP8 1
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "fp8_quantize.cuh"
#include "torch_bridge.hpp"
#endif

namespace peaknet::model {

namespace {
constexpr const char* kOp = "fp8_linear";

#ifdef PEAKNET_MODEL_HAVE_FP8
std::string shape_of(const torch::Tensor& t) {
  return t.defined() ? std::string(c10::str(t.sizes())) + " " + std::string(c10::toString(t.scalar_type())) + " on " +
                           t.device().str()
                     : "undefined";
}
#endif
}  // namespace

bool fp8_gemm_built() {
#ifdef PEAKNET_MODEL_HAVE_FP8
  return true;
#else
  return false;
#endif
}

std::string fp8_unavailable_reason(const torch::Device& device) {
  if (!fp8_gemm_built())
    return "this build has LibTorch " + std::string(TORCH_VERSION) +
           (torch::cuda::is_available() ? "" : " without CUDA") +
           "; the fp8 GEMMs need LibTorch >= 2.5 built with CUDA (row-wise at::_scaled_mm)";
  if (!device.is_cuda()) return "the fp8 GEMMs run on CUDA devices only, the model is on " + device.str();
#ifdef PEAKNET_MODEL_HAVE_FP8
  const int index = device.has_index() ? device.index() : at::cuda::current_device();
  const auto* props = at::cuda::getDeviceProperties(index);
  if (props->major * 10 + props->minor < 89)
    return "the fp8 GEMMs need compute capability >= 8.9, " + device.str() + " is " + std::to_string(props->major) +
           "." + std::to_string(props->minor);
#endif
  return "";
}

bool fp8_quantize_rows_supports(const torch::Tensor& x) {
  return fp8_gemm_built() && x.defined() && x.is_cuda() && x.dim() == 2 && x.is_contiguous() &&
         x.scalar_type() == torch::kBFloat16 && x.size(1) >= 16 && x.size(1) % 16 == 0 &&
         reinterpret_cast<uintptr_t>(x.data_ptr()) % 16 == 0;
}

#ifdef PEAKNET_MODEL_HAVE_FP8
Fp8Weight quantize_fp8_weight(const torch::Tensor& weight) {
  if (!weight.defined() || !weight.is_cuda() || weight.dim() != 2 || !weight.is_floating_point() ||
      weight.size(0) % 16 != 0 || weight.size(1) % 16 != 0)
    throw std::invalid_argument("quantize_fp8_weight: weight must be a 2-D floating CUDA tensor (N, K), N and K "
                                "multiples of 16, got " + shape_of(weight));
  const torch::Tensor w = weight.to(torch::kFloat);
  const torch::Tensor amax = w.abs().amax(1, /*keepdim=*/true);  // (N, 1)
  const torch::Tensor scale = torch::where(amax > 0, amax / cuda::kFp8E4m3Max, torch::ones_like(amax));
  Fp8Weight out;
  out.q = (w / scale).clamp(-cuda::kFp8E4m3Max, cuda::kFp8E4m3Max).to(at::kFloat8_e4m3fn).contiguous();
  out.scale = scale.reshape({1, -1}).contiguous();
  return out;
}

Fp8Rows fp8_quantize_rows(const torch::Tensor& x, const torch::Tensor& channel_scale) {
  if (!fp8_quantize_rows_supports(x))
    throw std::invalid_argument(std::string(kOp) + ": activations must be a contiguous 2-D bfloat16 CUDA tensor with "
                                "K a multiple of 16, got " + shape_of(x));
  const int64_t rows = x.size(0), cols = x.size(1);
  cuda::Fp8QuantizeArgs args;
  torch::Tensor factor;
  if (channel_scale.defined()) {
    if (channel_scale.dim() != 2 || channel_scale.size(1) != cols || channel_scale.size(0) < 1 ||
        rows % channel_scale.size(0) != 0 || channel_scale.scalar_type() != torch::kFloat ||
        channel_scale.device() != x.device())
      throw std::invalid_argument(std::string(kOp) + ": channel_scale must be (images, " + std::to_string(cols) +
                                  ") float32 on " + x.device().str() + " with images dividing " +
                                  std::to_string(rows) + " rows, got " + shape_of(channel_scale));
    factor = channel_scale.contiguous();
    args.channel_scale = factor.data_ptr<float>();
    args.rows_per_image = rows / channel_scale.size(0);
  }
  const c10::cuda::CUDAGuard device_guard(x.device());
  Fp8Rows out;
  out.q = torch::empty({rows, cols}, x.options().dtype(at::kFloat8_e4m3fn));
  out.scale = torch::empty({rows, 1}, x.options().dtype(torch::kFloat));
  args.x = x.data_ptr();
  args.rows = rows;
  args.cols = cols;
  args.q = out.q.data_ptr();
  args.scale = out.scale.data_ptr<float>();
  cuda::check_launch(cuda::launch_fp8_rowwise_quantize(args, cuda::current_stream()), kOp);
  return out;
}

torch::Tensor fp8_linear(const torch::Tensor& x, const Fp8Weight& weight, const torch::Tensor& bias,
                         const torch::Tensor& channel_scale) {
  if (!weight.defined() || weight.q.dim() != 2)
    throw std::invalid_argument(std::string(kOp) + ": weight is not quantised (quantize_fp8_weight)");
  const int64_t n = weight.q.size(0), k = weight.q.size(1);
  if (!x.defined() || !x.is_cuda() || x.dim() < 1 || x.size(-1) != k || x.device() != weight.q.device())
    throw std::invalid_argument(std::string(kOp) + ": x must be a CUDA tensor (..., " + std::to_string(k) + ") on " +
                                weight.q.device().str() + ", got " + shape_of(x));
  if (bias.defined() && (bias.numel() != n || bias.scalar_type() != torch::kBFloat16))
    throw std::invalid_argument(std::string(kOp) + ": bias must hold " + std::to_string(n) +
                                " bfloat16 values, got " + shape_of(bias));
  const torch::Tensor rows = x.to(torch::kBFloat16).reshape({-1, k}).contiguous();
  const Fp8Rows a = fp8_quantize_rows(rows, channel_scale);
  std::vector<int64_t> out_shape = x.sizes().vec();
  out_shape.back() = n;
  // _scaled_mm: mat1 row-major (M, K), mat2 column-major (K, N) — the (N, K) weight transposed. The bias goes
  // into the GEMM's epilogue; should this torch/cuBLAS refuse a bias with row-wise scales, it is added after
  // (decided once, on the first call: a warm-up, before any CUDA graph capture).
  static std::atomic<bool> bias_epilogue{true};
  torch::Tensor y;
  if (bias.defined() && bias_epilogue.load()) {
    try {
      y = at::_scaled_mm(a.q, weight.q.t(), a.scale, weight.scale, bias.reshape({n}), std::nullopt, torch::kBFloat16,
                         /*use_fast_accum=*/false);
    } catch (const c10::Error&) {
      bias_epilogue = false;
    }
  }
  if (!y.defined()) {
    y = at::_scaled_mm(a.q, weight.q.t(), a.scale, weight.scale, std::nullopt, std::nullopt, torch::kBFloat16,
                       /*use_fast_accum=*/false);
    if (bias.defined()) y.add_(bias.reshape({n}));
  }
  return y.view(out_shape);
}
#else
Fp8Weight quantize_fp8_weight(const torch::Tensor&) {
  throw std::invalid_argument("quantize_fp8_weight: " + fp8_unavailable_reason(torch::kCPU));
}
Fp8Rows fp8_quantize_rows(const torch::Tensor&, const torch::Tensor&) {
  throw std::invalid_argument(std::string(kOp) + ": " + fp8_unavailable_reason(torch::kCPU));
}
torch::Tensor fp8_linear(const torch::Tensor&, const Fp8Weight&, const torch::Tensor&, const torch::Tensor&) {
  throw std::invalid_argument(std::string(kOp) + ": " + fp8_unavailable_reason(torch::kCPU));
}
#endif

}  // namespace peaknet::model
