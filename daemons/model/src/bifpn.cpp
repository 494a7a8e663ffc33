#include "bifpn.hpp"

#include <string>

#include "cuda/fused_kernels.hpp"
#include "model/op_profiler.hpp"

namespace peaknet::model::modules {
namespace {

// Fixed by upstream code (not configuration).
constexpr double kBifpnLayerNormEps = 1e-6;
constexpr double kFusionEps = 1e-5;
constexpr int kBaseLevel = 4;  // BiFPN level names m4..m6, q5..q7

// "m4", "q7", ... (built by appending: GCC 12 warns falsely on char* + std::string here).
std::string level_name(char pass, int level) {
  std::string name(1, pass);
  name += std::to_string(level);
  return name;
}

}  // namespace

FusionUnit::FusionUnit(Node& node, const Build& build, int64_t f) {
  auto ds = add_child(node, "0");
  depthwise = Conv(*add_child(*ds, "depthwise_conv"), build, f, f, 1, false, /*groups=*/f);
  pointwise = Conv(*add_child(*ds, "pointwise_conv"), build, f, f, 1, false);
  norm = LayerNorm(*add_child(node, "1"), build, f, kBifpnLayerNormEps);
}

Tensor FusionUnit::refine_scaled(const Tensor& scaled, const Tensor& residual, bool fused) const {
  const Tensor mixed = pointwise(scaled);
  op_lap("bifpn.dsconv1x1", scaled, mixed);
  if (fused && fused_layernorm_channels_first_supports(mixed, residual)) {
    Tensor out =
        fused_layernorm_channels_first(mixed, norm.weight, norm.bias, norm.eps, /*gelu=*/true, residual, torch::kFloat);
    op_lap("bifpn.layernorm_gelu_residual_fused", mixed, residual, out);
    return out;
  }
  const Tensor normed = norm.channels_first(mixed);
  op_lap("bifpn.layernorm", mixed, normed);
  const Tensor refined = at::gelu(normed);
  op_lap("bifpn.gelu", normed, refined);
  Tensor out = refined + residual;
  op_lap("bifpn.residual_add", refined, residual, out);
  return out;
}

BifpnBlock::BifpnBlock(Node& node, const Build& build, int64_t f) : registry_(&build.registry) {
  w_m_ = param(node, "w_m", {3, 2}, build.device);
  w_q_ = param(node, "w_q", {3, 3}, build.device);
  w_q_mask_ = node.register_buffer(
      "w_q_mask", torch::empty({3, 3}, torch::TensorOptions().device(build.device).dtype(torch::kBool)));
  auto conv = add_child(node, "conv");
  for (int lvl = kBaseLevel; lvl < kBaseLevel + 3; ++lvl)
    m_.emplace_back(*add_child(*conv, level_name('m', lvl)), build, f);
  for (int lvl = kBaseLevel + 1; lvl < kBaseLevel + 4; ++lvl)
    q_.emplace_back(*add_child(*conv, level_name('q', lvl)), build, f);
}

Tensor BifpnBlock::node(const std::vector<Tensor>& same, const Tensor& other, double scale, const Tensor& w,
                        const FusionUnit& unit, const Tensor& residual) const {
  if (registry_->fused_kernels() && fused_bifpn_fusion_supports(same, other, scale, unit.depthwise.weight)) {
    const Tensor scaled = fused_bifpn_fusion(same, other, scale, w, kFusionEps, unit.depthwise.weight);
    op_lap("bifpn.fusion_fused", same[0], other, scaled);
    return unit.refine_scaled(scaled, residual, true);
  }
  const Tensor resampled = resample(other, scale);
  op_lap("bifpn.resample", other, resampled);
  const auto count = static_cast<int64_t>(same.size());
  Tensor numerator = w[0] * same[0];
  Tensor denominator = w[0];
  for (int64_t i = 1; i < count; ++i) {
    numerator = numerator + w[i] * same[static_cast<size_t>(i)];
    denominator = denominator + w[i];
  }
  numerator = numerator + w[count] * resampled;
  denominator = denominator + w[count];
  const Tensor fused = numerator / (denominator + kFusionEps);
  op_lap("bifpn.fusion", same[0], resampled, fused);  // (other same-level maps left out of the bytes)
  return unit.refine_scaled(unit.depthwise_scale(fused), residual, false);
}

std::vector<Tensor> BifpnBlock::operator()(const std::vector<Tensor>& p) const {
  // Top-down: m6, m5, m4 = fuse(p_level, upsample(upper)).
  std::vector<Tensor> mm(4);
  Tensor upper = p[3];
  for (int idx = 0; idx < 3; ++idx) {
    const int level = 2 - idx;  // 2, 1, 0
    mm[level] = node({p[level]}, upper, 2.0, at::relu(w_m_[idx]), m_[level], p[level]);
    upper = mm[level];
  }
  // Bottom-up: q5, q6, q7 (q4 = m4) = fuse(p_low, m_low, downsample(previous)). At level 7 there is no
  // m7: m_low = p7, and the mask zeroes its weight.
  std::vector<Tensor> out(4);
  out[0] = mm[0];
  for (int idx = 0; idx < 3; ++idx) {
    const int level = idx + 1;
    const Tensor& p_low = p[level];
    const Tensor& m_low = level < 3 ? mm[level] : p[3];
    out[level] = node({p_low, m_low}, out[level - 1], 0.5, at::relu(w_q_[idx] * w_q_mask_[idx]), q_[idx], p_low);
  }
  return out;
}

}  // namespace peaknet::model::modules
