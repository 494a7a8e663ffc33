#pragma once
// ConvNextV2Layer (internal): dwconv 7x7 -> NHWC -> LN -> Linear 4C -> GELU -> GRN -> Linear C -> NCHW
// -> + residual, with the fused CUDA paths (opt-in, ModuleRegistry::fused_kernels) beside the unfused ops.
#include "primitives.hpp"

namespace peaknet::model::modules {

// Fixed by upstream code (not configuration).
constexpr double kBackboneLayerNormEps = 1e-6;  // every ConvNeXtV2 LayerNorm (config's 1e-12 is unused)
constexpr double kGrnEps = 1e-6;

class ConvNextLayer {
 public:
  ConvNextLayer(Node& node, const Build& build, int64_t c);
  Tensor operator()(const Tensor& residual) const;

 private:
  // Fused tail (grn_fold.hpp): GELU + GRN statistics in one pass that leaves GELU in `expanded`, GRN folded
  // into per-image pwconv2 weights (no elementwise GRN pass over the 4C map), then residual + (projection +
  // bias) in one pass. Same math as the unfused tail; bf16 roundings fall in different places.
  Tensor grn_folded_tail(const Tensor& residual, const Tensor& expanded) const;
  // Unfused reference: GELU, then GRN in fp32 (the result is fp32; pwconv2 casts it).
  Tensor gelu_grn_unfused(const Tensor& expanded) const;

  const ModuleRegistry* registry_;
  Conv dwconv_;
  LayerNorm layernorm_;
  Linear pwconv1_, pwconv2_;
  Tensor grn_weight_, grn_bias_;
};

}  // namespace peaknet::model::modules
