#include "convnext_layer.hpp"

#include "cuda/fused_kernels.hpp"
#include "grn_fold.hpp"
#include "model/op_profiler.hpp"

namespace peaknet::model::modules {

// Children in upstream registration order (the state_dict order): dwconv, layernorm, pwconv1, grn, pwconv2.
ConvNextLayer::ConvNextLayer(Node& node, const Build& build, int64_t c) : registry_(&build.registry) {
  dwconv_ = Conv(*add_child(node, "dwconv"), build, c, c, 7, true, /*groups=*/c, 1, /*padding=*/3);
  layernorm_ = LayerNorm(*add_child(node, "layernorm"), build, c, kBackboneLayerNormEps);
  pwconv1_ = Linear(*add_child(node, "pwconv1"), build, c, 4 * c);
  auto grn = add_child(node, "grn");
  grn_weight_ = param(*grn, "weight", {1, 1, 1, 4 * c}, build.device);
  grn_bias_ = param(*grn, "bias", {1, 1, 1, 4 * c}, build.device);
  pwconv2_ = Linear(*add_child(node, "pwconv2"), build, 4 * c, c);
}

// op_lap marks split the forward into op classes for OpProfiler (free when profiling is off).
Tensor ConvNextLayer::operator()(const Tensor& residual) const {
  const bool fused = registry_->fused_kernels();
  Tensor normed;
  if (fused && fused_dwconv_layernorm_supports(residual, dwconv_.weight)) {
    // Emits pwconv1's input dtype directly (its cast of the fp32 LayerNorm output).
    normed = fused_dwconv7_layernorm(residual, dwconv_.weight, dwconv_.bias, layernorm_.weight, layernorm_.bias,
                                     layernorm_.eps, pwconv1_.weight.scalar_type());
    op_lap("convnext.dwconv7x7_layernorm_fused", residual, normed);
  } else {
    const Tensor conv = dwconv_(residual).permute({0, 2, 3, 1});
    op_lap("convnext.dwconv7x7", residual, conv);
    normed = layernorm_.last_dim(conv);
    op_lap("convnext.layernorm", conv, normed);
  }
  const Tensor expanded = pwconv1_(normed);
  op_lap("convnext.pwconv1", normed, expanded);
  if (fused && fused_gelu_grn_factor_supports(expanded)) return grn_folded_tail(residual, expanded);
  Tensor x;
  if (fused && fused_grn_supports(expanded)) {
    // Emits pwconv2's input dtype directly: bit-equal to the fp32 GRN result cast by pwconv2.
    x = fused_gelu_grn(expanded, grn_weight_, grn_bias_, /*apply_gelu=*/true, kGrnEps, pwconv2_.weight.scalar_type(),
                       /*overwrite_x=*/true);
    op_lap("convnext.gelu_grn_fused", expanded, x);
  } else {
    x = gelu_grn_unfused(expanded);
  }
  const Tensor projected = pwconv2_(x).permute({0, 3, 1, 2});
  op_lap("convnext.pwconv2", x, projected);
  Tensor out = residual + projected;
  op_lap("convnext.residual_add", residual, projected, out);
  return out;
}

Tensor ConvNextLayer::grn_folded_tail(const Tensor& residual, const Tensor& expanded) const {
  const Tensor factor = fused_gelu_grn_factor(expanded, kGrnEps);
  op_lap("convnext.gelu_grn_statistics_fused", expanded, factor);
  const GrnFoldedLinear folded = fold_grn_into_linear(factor, grn_weight_, grn_bias_, pwconv2_.weight, pwconv2_.bias);
  const Tensor projected = per_image_linear(expanded, folded.weight).permute({0, 3, 1, 2});
  op_lap("convnext.pwconv2_grn_folded", expanded, projected);
  Tensor out = fused_residual_bias_add_supports(residual, projected, folded.bias)
                   ? fused_residual_bias_add(residual, projected, folded.bias)
                   : residual + (projected + folded.bias.view({1, -1, 1, 1}));
  op_lap("convnext.residual_bias_add", residual, projected, out);
  return out;
}

Tensor ConvNextLayer::gelu_grn_unfused(const Tensor& expanded) const {
  Tensor x = at::gelu(expanded);
  op_lap("convnext.gelu", expanded, x);
  // GRN: L2 norm over the whole image per channel (autocast runs vector_norm in fp32).
  const Tensor g = at::linalg_vector_norm(x.to(torch::kFloat), 2, torch::IntArrayRef{1, 2}, true);
  const Tensor n = g / (g.mean(-1, true) + kGrnEps);
  const Tensor activated = x;
  x = grn_weight_ * (x * n) + grn_bias_ + x;
  op_lap("convnext.grn", activated, x);
  return x;
}

}  // namespace peaknet::model::modules
