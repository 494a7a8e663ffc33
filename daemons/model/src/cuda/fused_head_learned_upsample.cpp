// Torch wrapper of the learned-upsample head end (head_learned_upsample.cu).
#include <stdexcept>
#include <string>

#include "fused_kernels.hpp"
#include "tensor_checks.hpp"

#ifdef PEAKNET_MODEL_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "head_learned_upsample.cuh"
#include "torch_bridge.hpp"
#endif

namespace peaknet::model {

namespace {
constexpr const char* kOp = "fused_head_learned_upsample";
constexpr int64_t kClasses = 2, kKernel = 6, kMaxCoarse = 3, kMaxChannels = 1024;  // head_learned_upsample.cuh

bool bf16_vector_or_none(const torch::Tensor& b, const torch::Tensor& like) {
  return !b.defined() || (b.scalar_type() == torch::kBFloat16 && b.numel() == kClasses && b.device() == like.device());
}
}  // namespace

bool fused_head_learned_upsample_supports(const torch::Tensor& finest, const std::vector<torch::Tensor>& coarse,
                                          const torch::Tensor& seg_weight, const torch::Tensor& seg_bias,
                                          const torch::Tensor& up_weight, const torch::Tensor& up_bias) {
  if (!fused_kernels_built() || !fp32_channels_last(finest)) return false;
  const int64_t n = finest.size(0), c = finest.size(1), h = finest.size(2), w = finest.size(3);
  if (c % 4 != 0 || c > kMaxChannels || h % 2 != 0 || w % 2 != 0 || static_cast<int64_t>(coarse.size()) > kMaxCoarse)
    return false;
  for (const auto& m : coarse) {
    if (!fp32_channels_last(m) || m.device() != finest.device() || m.size(0) != n || m.size(1) != c ||
        m.size(2) * 2 != h || m.size(3) * 2 != w)
      return false;
  }
  const bool seg_ok = seg_weight.defined() && seg_weight.scalar_type() == torch::kBFloat16 &&
                      seg_weight.device() == finest.device() &&
                      seg_weight.sizes() == torch::IntArrayRef({kClasses, c, 1, 1});
  const bool up_ok = up_weight.defined() && up_weight.scalar_type() == torch::kBFloat16 &&
                     up_weight.device() == finest.device() &&
                     up_weight.sizes() == torch::IntArrayRef({c, kClasses, kKernel, kKernel});
  if (!seg_ok || !up_ok || !bf16_vector_or_none(seg_bias, finest) || !bf16_vector_or_none(up_bias, finest)) return false;
#ifdef PEAKNET_MODEL_HAVE_CUDA
  return cuda::learned_head_shared_bytes(c) <= at::cuda::getDeviceProperties(finest.device().index())->sharedMemPerBlockOptin;
#else
  return false;
#endif
}

#ifdef PEAKNET_MODEL_HAVE_CUDA
torch::Tensor fused_head_learned_upsample(const torch::Tensor& finest, const std::vector<torch::Tensor>& coarse,
                                          const torch::Tensor& seg_weight, const torch::Tensor& seg_bias,
                                          const torch::Tensor& up_weight, const torch::Tensor& up_bias) {
  if (!fused_head_learned_upsample_supports(finest, coarse, seg_weight, seg_bias, up_weight, up_bias))
    throw std::invalid_argument(std::string(kOp) +
                                ": finest must be a 4-D channels_last float32 CUDA map (C % 4 == 0, C <= 1024, even H "
                                "and W), at most 3 coarse maps of its size halved, seg_weight (2, C, 1, 1) and "
                                "up_weight (C, 2, 6, 6) bfloat16, biases 2 bfloat16 values or none");
  const c10::cuda::CUDAGuard device_guard(finest.device());
  const int64_t n = finest.size(0), c = finest.size(1), h = finest.size(2), w = finest.size(3);
  // Rows: the K segmask filters, then the transposed conv's filter of (class k, tap ky, kx) at K + k*36 + ky*6 + kx.
  const torch::Tensor weights =
      torch::cat({seg_weight.reshape({kClasses, c}), up_weight.permute({1, 2, 3, 0}).reshape({kClasses * kKernel * kKernel, c})})
          .contiguous();
  const torch::Tensor sb = seg_bias.defined() ? seg_bias.reshape({kClasses}).contiguous() : torch::Tensor();
  const torch::Tensor ub = up_bias.defined() ? up_bias.reshape({kClasses}).contiguous() : torch::Tensor();
  const torch::Tensor taps = torch::empty({n, h, w, cuda::kLearnedHeadOutputs}, finest.options());
  const auto options = finest.options().dtype(torch::kBFloat16).memory_format(at::MemoryFormat::ChannelsLast);
  torch::Tensor logits = torch::empty({n, kClasses, 4 * h, 4 * w}, options);
  const float* maps[kMaxCoarse] = {};
  for (size_t i = 0; i < coarse.size(); ++i) maps[i] = coarse[i].data_ptr<float>();
  const cuda::LearnedHeadShape shape{n, h, w, c, static_cast<int>(coarse.size())};
  const auto bf16 = [](const torch::Tensor& t) {
    return t.defined() ? reinterpret_cast<const __nv_bfloat16*>(t.data_ptr()) : nullptr;
  };
  const cudaStream_t stream = cuda::current_stream();
  cuda::check_launch(cuda::launch_learned_head_taps(finest.data_ptr<float>(), maps, shape, bf16(weights), bf16(sb),
                                                    taps.data_ptr<float>(), stream),
                     kOp);
  cuda::check_launch(cuda::launch_learned_head_output(taps.data_ptr<float>(), shape, bf16(ub),
                                                      reinterpret_cast<__nv_bfloat16*>(logits.data_ptr()), stream),
                     kOp);
  return logits;
}
#else
torch::Tensor fused_head_learned_upsample(const torch::Tensor&, const std::vector<torch::Tensor>&, const torch::Tensor&,
                                          const torch::Tensor&, const torch::Tensor&, const torch::Tensor&) {
  throw std::invalid_argument(std::string(kOp) + ": this build has no CUDA LibTorch (fused kernels unavailable)");
}
#endif

}  // namespace peaknet::model
