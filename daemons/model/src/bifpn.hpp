#pragma once
// One BiFPN block (internal): top-down pass m6, m5, m4 then bottom-up pass q5, q6, q7 over the 4 pyramid
// levels, each node a weighted fusion (masked-ReLU weights) refined by a FusionUnit, plus its residual.
#include <vector>

#include "primitives.hpp"

namespace peaknet::model::modules {

// BiFPN conv unit: Sequential[DSConv(k1, no bias), BiFPNLayerNorm, GELU].
struct FusionUnit {
  Conv depthwise, pointwise;
  LayerNorm norm;
  FusionUnit(Node& node, const Build& build, int64_t f);
  // The depthwise 1x1 conv (no bias) is one multiply per element: done as a broadcast multiply in the
  // conv's dtype (bit-identical result; LibTorch 1.13's CPU conv would split it into one conv per channel).
  Tensor depthwise_scale(const Tensor& x) const {
    return x.to(depthwise.weight.scalar_type()) * depthwise.weight.view({1, -1, 1, 1});
  }
  // pointwise conv -> LayerNorm -> GELU, plus the node's residual (fp32, as the unfused ops promote).
  Tensor refine_scaled(const Tensor& scaled, const Tensor& residual, bool fused) const;
};

class BifpnBlock {
 public:
  BifpnBlock(Node& node, const Build& build, int64_t f);
  /// p: 4 maps at strides 4, 8, 16, 32. Returns [m4, q5, q6, q7].
  std::vector<Tensor> operator()(const std::vector<Tensor>& p) const;

 private:
  // One BiFPN node: fuse the same-level maps with the resampled neighbour `other` (weights w, in that
  // order), refine with `unit`, add `residual`. Unfused: the upstream expression op for op.
  Tensor node(const std::vector<Tensor>& same, const Tensor& other, double scale, const Tensor& w,
              const FusionUnit& unit, const Tensor& residual) const;

  const ModuleRegistry* registry_;
  Tensor w_m_, w_q_, w_q_mask_;
  std::vector<FusionUnit> m_;  // m4, m5, m6 (index = level - 4)
  std::vector<FusionUnit> q_;  // q5, q6, q7 (index = level - 5)
};

}  // namespace peaknet::model::modules
