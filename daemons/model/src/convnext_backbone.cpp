#include "convnext_backbone.hpp"

#include "cuda/fused_kernels.hpp"
#include "model/op_profiler.hpp"

namespace peaknet::model::modules {
namespace {
constexpr int64_t kPatchSize = 4;  // fixed by upstream code
}  // namespace

ConvNextStage::ConvNextStage(Node& node, const Build& build, int64_t in_c, int64_t c, int64_t depth, bool downsamples)
    : registry_(&build.registry), downsamples_(downsamples) {
  auto down = add_child(node, "downsampling_layer");  // registered (empty) in stage 0 too, as upstream
  if (downsamples_) {
    down_norm_ = LayerNorm(*add_child(*down, "0"), build, in_c, kBackboneLayerNormEps);
    down_conv_ = Conv(*add_child(*down, "1"), build, in_c, c, 2, true, 1, /*stride=*/2);
  }
  auto layers = add_child(node, "layers");
  for (int64_t j = 0; j < depth; ++j) layers_.emplace_back(*add_child(*layers, std::to_string(j)), build, c);
}

Tensor ConvNextStage::operator()(Tensor h) const {
  if (downsamples_) {
    const Tensor normed = down_norm_.channels_first(h, registry_->fused_kernels(), down_conv_.weight.scalar_type());
    op_lap("downsample.layernorm", h, normed);
    h = down_conv_(normed);
    op_lap("downsample.conv2x2", normed, h);
  }
  for (const auto& layer : layers_) h = layer(h);
  return h;
}

ConvNextBackbone::ConvNextBackbone(Node& node, const Build& build, const PeakNetConfig& config)
    : registry_(&build.registry) {
  const auto& hs = config.backbone_hidden_sizes;
  auto embeddings = add_child(node, "embeddings");
  patch_embeddings_ = Conv(*add_child(*embeddings, "patch_embeddings"), build, config.num_channels, hs[0], kPatchSize,
                           true, 1, /*stride=*/kPatchSize);
  embeddings_norm_ = LayerNorm(*add_child(*embeddings, "layernorm"), build, hs[0], kBackboneLayerNormEps);
  auto stages = add_child(*add_child(node, "encoder"), "stages");
  for (size_t s = 0; s < 4; ++s)
    stages_.emplace_back(*add_child(*stages, std::to_string(s)), build, s > 0 ? hs[s - 1] : hs[0], hs[s],
                         config.backbone_depths[s], /*downsamples=*/s > 0);
  auto norms = add_child(node, "hidden_states_norms");
  for (size_t s = 0; s < 4; ++s)
    hidden_states_norms_.emplace_back(*add_child(*norms, "stage" + std::to_string(s + 1)), build, hs[s],
                                      kBackboneLayerNormEps);
}

Tensor ConvNextBackbone::stem(const Tensor& x, bool fused) const {
  Tensor h;
  if (fused && fused_stem_layernorm_supports(x, patch_embeddings_.weight)) {
    h = fused_stem_conv4x4_layernorm(x, patch_embeddings_.weight, patch_embeddings_.bias, embeddings_norm_.weight,
                                     embeddings_norm_.bias, embeddings_norm_.eps);
    op_lap("stem.conv4x4_layernorm_fused", x, h);
  } else {
    const Tensor patches = patch_embeddings_(x);
    op_lap("stem.conv4x4", x, patches);
    // fp32 out: the stage-0 residual stream is fp32 under autocast.
    h = embeddings_norm_.channels_first(patches, fused, torch::kFloat);
    op_lap("stem.layernorm", patches, h);
  }
  return h;
}

std::vector<Tensor> ConvNextBackbone::operator()(const Tensor& x,
                                                 const std::vector<torch::ScalarType>& feature_dtypes) const {
  const bool fused = registry_->fused_kernels();
  Tensor h = stem(x, fused);
  std::vector<Tensor> features;
  for (size_t s = 0; s < 4; ++s) {
    h = stages_[s](h);
    features.push_back(hidden_states_norms_[s].channels_first(h, fused, feature_dtypes[s]));
    op_lap("backbone.out_layernorm", h, features.back());
  }
  return features;
}

}  // namespace peaknet::model::modules
