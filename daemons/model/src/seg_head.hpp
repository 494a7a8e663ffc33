#pragma once
// The FPN segmentation head (internal): lateral branch i on BiFPN level i = max(i, 1) units of Conv3x3 ->
// GroupNorm -> GELU (-> upsample 2x if i > 0), summed L3 + L2 + L1 + L0 at stride 4, 1x1 segmask conv,
// bilinear 4x; the learned-upsample variant adds a transposed conv of the stride-4 sum.
#include <vector>

#include "model/peaknet_config.hpp"
#include "primitives.hpp"

namespace peaknet::model::modules {

class SegHead {
 public:
  /// Registers seg_lateral_layers, head_segmask [, head_upsample_layer] under `root`.
  SegHead(Node& root, const Build& build, const PeakNetConfig& config);
  /// pyramid: the BiFPN outputs [m4, q5, q6, q7] -> full-resolution logits.
  Tensor operator()(const std::vector<Tensor>& pyramid) const;

 private:
  struct Unit {
    Conv conv;
    GroupNorm norm;
  };
  // Lateral branch i. defer_last_upsample: return before the last upsample (the caller fuses it with the
  // head's sum).
  Tensor run_lateral(size_t i, Tensor x, bool defer_last_upsample) const;
  // Adds one head branch to the running sum (coarsest first), upsampling it 2x first where it was deferred.
  void add_branch(Tensor& acc, Tensor branch, bool upsample) const;
  // Fused head end: the deferred upsamples, the sum and the segmask conv in one kernel -> the stride-4
  // logits. Undefined where it does not apply (unfused, learned upsample, unsupported shapes).
  Tensor fused_coarse_logits(const std::vector<Tensor>& branches) const;

  const ModuleRegistry* registry_;
  std::vector<std::vector<Unit>> lateral_;  // lateral_[i] on BiFPN level i; units upsample if i > 0
  Conv segmask_;
  Conv upsample_;  // learned-upsample variant only
};

}  // namespace peaknet::model::modules
