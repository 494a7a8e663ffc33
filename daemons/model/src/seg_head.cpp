#include "seg_head.hpp"

#include <algorithm>
#include <string>

#include "cuda/fused_kernels.hpp"
#include "model/op_profiler.hpp"

namespace peaknet::model::modules {
namespace {
constexpr int64_t kHeadScale = 4;  // logits at stride 4 -> full resolution (fixed by upstream code)
}  // namespace

SegHead::SegHead(Node& root, const Build& build, const PeakNetConfig& config) : registry_(&build.registry) {
  const int64_t f = config.bifpn_num_features;
  const int64_t oc = config.seg_out_channels;
  auto laterals = add_child(root, "seg_lateral_layers");
  for (int i = 0; i < 4; ++i) {
    auto units_node = add_child(*add_child(*laterals, std::to_string(i)), "layers");
    std::vector<Unit> units;
    for (int k = 0; k < std::max(i, 1); ++k) {
      auto unit = add_child(*units_node, std::to_string(k));
      Unit u;
      u.conv = Conv(*add_child(*unit, "0"), build, k == 0 ? f : oc, oc, 3, true, 1, 1, /*padding=*/1);
      u.norm = GroupNorm(*add_child(*unit, "1"), build, oc);
      units.push_back(std::move(u));
    }
    lateral_.push_back(std::move(units));
  }
  segmask_ = Conv(*add_child(root, "head_segmask"), build, oc, config.num_classes, 1);
  if (config.uses_learned_upsample) {
    // ConvTranspose2d(seg_out_channels -> num_classes, k6, s4, p1) on the stride-4 sum: 4x the size.
    upsample_ = Conv(*add_child(*add_child(root, "head_upsample_layer"), "0"), build, oc, config.num_classes, 6, true,
                     1, /*stride=*/4, /*padding=*/1, /*transposed=*/true);
  }
}

Tensor SegHead::run_lateral(size_t i, Tensor x, bool defer_last_upsample) const {
  const bool fused = registry_->fused_kernels();
  for (size_t k = 0; k < lateral_[i].size(); ++k) {
    const auto& u = lateral_[i][k];
    const Tensor conv = u.conv(x);
    op_lap("head.conv3x3", x, conv);
    if (fused && fused_group_norm_supports(conv, kGroupNormGroups)) {
      x = fused_group_norm(conv, kGroupNormGroups, u.norm.weight, u.norm.bias, kGroupNormEps, /*gelu=*/true,
                           torch::kFloat);
      op_lap("head.groupnorm_gelu_fused", conv, x);
    } else {
      const Tensor normed = u.norm(conv);
      op_lap("head.groupnorm", conv, normed);
      x = at::gelu(normed);
      op_lap("head.gelu", normed, x);
    }
    if (i > 0) {
      if (defer_last_upsample && k + 1 == lateral_[i].size()) break;
      const Tensor small = x;
      x = fused && fused_upsample2x_add_supports(x, Tensor()) ? fused_upsample2x_add(x, Tensor()) : resample(x, 2.0);
      op_lap("head.upsample2x", small, x);
    }
  }
  return x;
}

void SegHead::add_branch(Tensor& acc, Tensor branch, bool upsample) const {
  if (upsample) {
    const Tensor small = branch;
    if (fused_upsample2x_add_supports(branch, acc)) {
      acc = fused_upsample2x_add(branch, acc);
      op_lap("head.upsample2x_sum_fused", small, acc);
      return;
    }
    branch = resample(branch, 2.0);
    op_lap("head.upsample2x", small, branch);
  }
  if (!acc.defined()) {
    acc = branch;
    return;
  }
  const Tensor partial = acc;
  acc = acc + branch;
  op_lap("head.sum", partial, branch, acc);
}

Tensor SegHead::fused_coarse_logits(const std::vector<Tensor>& branches) const {
  if (!registry_->fused_kernels() || upsample_.weight.defined()) return {};
  const std::vector<Tensor> coarse(branches.begin(), branches.end() - 1);
  const Tensor& finest = branches.back();
  if (!fused_head_sum_segmask_supports(finest, coarse, segmask_.weight, segmask_.bias)) return {};
  const Tensor coarse_logits = fused_head_sum_segmask(finest, coarse, segmask_.weight, segmask_.bias);
  op_lap("head.upsample_sum_segmask_fused", finest, coarse_logits);
  return coarse_logits;
}

Tensor SegHead::operator()(const std::vector<Tensor>& pyramid) const {
  // Branches coarsest first (upstream's accumulation order L3 + L2 + L1 + L0). Fused: branches 3..1 stop
  // before their last upsample (small maps, kept until the fused head end consumes them all); unfused:
  // each full-resolution branch is added to the sum as soon as it exists.
  Tensor coarse_logits, acc;
  if (registry_->fused_kernels()) {
    std::vector<Tensor> branches;
    for (size_t level : {3, 2, 1, 0}) branches.push_back(run_lateral(level, pyramid[level], level > 0));
    coarse_logits = fused_coarse_logits(branches);
    if (!coarse_logits.defined())
      for (size_t b = 0; b < branches.size(); ++b) add_branch(acc, branches[b], b + 1 < branches.size());
  } else {
    for (size_t level : {3, 2, 1, 0}) add_branch(acc, run_lateral(level, pyramid[level], false), false);
  }
  if (!coarse_logits.defined()) {
    coarse_logits = segmask_(acc);
    op_lap("head.segmask_conv1x1", acc, coarse_logits);
  }
  Tensor logits = resample(coarse_logits, static_cast<double>(kHeadScale));
  op_lap("head.final_upsample4x", coarse_logits, logits);
  if (upsample_.weight.defined()) {  // never with the fused head end: acc is the full sum here
    logits = logits + upsample_(acc);
    op_lap("head.learned_upsample", acc, logits);
  }
  return logits;
}

}  // namespace peaknet::model::modules
