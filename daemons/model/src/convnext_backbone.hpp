#pragma once
// HF ConvNextV2Backbone (internal): patch-embedding stem, 4 stages (stages 1..3 open with a LayerNorm +
// 2x2 stride-2 conv) of ConvNextLayers, and the 4 hidden_states_norms whose outputs feed the BiFPN.
#include <vector>

#include "convnext_layer.hpp"
#include "model/peaknet_config.hpp"

namespace peaknet::model::modules {

class ConvNextStage {
 public:
  /// in_c: the previous stage's width (used only when `downsamples`).
  ConvNextStage(Node& node, const Build& build, int64_t in_c, int64_t c, int64_t depth, bool downsamples);
  Tensor operator()(Tensor h) const;

 private:
  const ModuleRegistry* registry_;
  bool downsamples_;
  LayerNorm down_norm_;
  Conv down_conv_;
  std::vector<ConvNextLayer> layers_;
};

class ConvNextBackbone {
 public:
  /// node: the model's "backbone" child.
  ConvNextBackbone(Node& node, const Build& build, const PeakNetConfig& config);
  /// The 4 feature maps (strides 4..32) after hidden_states_norms. The fused LayerNorm stores map s as
  /// feature_dtypes[s] (its consumer's dtype); the unfused one leaves it fp32.
  std::vector<Tensor> operator()(const Tensor& x, const std::vector<torch::ScalarType>& feature_dtypes) const;

 private:
  Tensor stem(const Tensor& x, bool fused) const;

  const ModuleRegistry* registry_;
  Conv patch_embeddings_;
  LayerNorm embeddings_norm_;
  std::vector<ConvNextStage> stages_;
  std::vector<LayerNorm> hidden_states_norms_;
};

}  // namespace peaknet::model::modules
