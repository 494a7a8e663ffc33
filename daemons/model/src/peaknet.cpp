#include "model/peaknet.hpp"

#include <cmath>
#include <stdexcept>

#include <ATen/CPUGeneratorImpl.h>

#include "cuda/fused_kernels.hpp"
#include "grn_fold.hpp"
#include "model/op_profiler.hpp"

namespace peaknet::model {
namespace {

using torch::Tensor;
using Node = torch::nn::Module;
using NodePtr = std::shared_ptr<Node>;

// Fixed by upstream code (not configuration).
constexpr double kBackboneLayerNormEps = 1e-6;  // every ConvNeXtV2 LayerNorm (config's 1e-12 is unused)
constexpr double kGrnEps = 1e-6;
constexpr double kBifpnLayerNormEps = 1e-6;
constexpr double kFusionEps = 1e-5;
constexpr double kGroupNormEps = 1e-5;
constexpr int64_t kGroupNormGroups = 32;
constexpr int64_t kPatchSize = 4;
constexpr int64_t kHeadScale = 4;  // logits at stride 4 -> full resolution
constexpr int kBaseLevel = 4;      // BiFPN level names m4..m6, q5..q7

NodePtr add_child(Node& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<Node>());
}

Tensor param(Node& node, const std::string& name, torch::IntArrayRef shape, torch::Device device) {
  return node.register_parameter(name, torch::empty(shape, torch::TensorOptions().device(device)),
                                 /*requires_grad=*/false);
}

// Convolution (also 1x1 "Linear on NCHW"), transposed or not. Inputs are cast to the weight dtype:
// autocast's rule for conv/linear, made explicit.
struct Conv {
  Tensor weight, bias;
  int64_t stride = 1, padding = 0, groups = 1;
  bool transposed = false;

  Conv() = default;
  Conv(Node& node, int64_t in, int64_t out, int64_t kernel, torch::Device device, bool with_bias = true,
       int64_t groups_ = 1, int64_t stride_ = 1, int64_t padding_ = 0, bool transposed_ = false)
      : stride(stride_), padding(padding_), groups(groups_), transposed(transposed_) {
    weight = transposed ? param(node, "weight", {in, out / groups, kernel, kernel}, device)
                        : param(node, "weight", {out, in / groups, kernel, kernel}, device);
    if (with_bias) bias = param(node, "bias", {out}, device);
  }
  Tensor operator()(const Tensor& x) const {
    const Tensor in = x.to(weight.scalar_type());
    const Tensor b = bias.defined() ? bias.to(weight.scalar_type()) : bias;
    if (transposed) return at::conv_transpose2d(in, weight, b, {stride, stride}, {padding, padding});
    return at::conv2d(in, weight, b, {stride, stride}, {padding, padding}, {1, 1}, groups);
  }
};

struct Linear {
  Tensor weight, bias;
  Linear() = default;
  Linear(Node& node, int64_t in, int64_t out, torch::Device device)
      : weight(param(node, "weight", {out, in}, device)), bias(param(node, "bias", {out}, device)) {}
  Tensor operator()(const Tensor& x) const { return at::linear(x.to(weight.scalar_type()), weight, bias); }
};

// LayerNorm over the last dim (channels_last data); fp32 as under autocast.
struct LayerNorm {
  Tensor weight, bias;
  double eps = 1e-6;
  LayerNorm() = default;
  LayerNorm(Node& node, int64_t c, double eps_, torch::Device device)
      : weight(param(node, "weight", {c}, device)), bias(param(node, "bias", {c}, device)), eps(eps_) {}
  Tensor last_dim(const Tensor& x) const {
    return at::layer_norm(x.to(torch::kFloat), {weight.size(0)}, weight, bias, eps);
  }
  // channels_first: permute -> layer_norm -> permute back (HF ConvNextV2LayerNorm, BiFPNLayerNorm).
  Tensor channels_first(const Tensor& x) const { return last_dim(x.permute({0, 2, 3, 1})).permute({0, 3, 1, 2}); }
  // Through the fused kernel when enabled and supported, stored as out_dtype: the dtype the consumer
  // casts to anyway (a conv's weight dtype), so the cast is free and exact.
  // An NCHW-strided CUDA input (the stem conv's output: a C=1 input leaves cuDNN in NCHW) is made
  // channels_last first — one bf16 copy, cheaper than the unfused path's strided fp32 passes.
  Tensor channels_first(const Tensor& x, bool fused, torch::ScalarType out_dtype) const {
    if (fused && x.is_cuda() && x.dim() == 4) {
      const Tensor cl = x.contiguous(at::MemoryFormat::ChannelsLast);
      if (fused_layernorm_channels_first_supports(cl, Tensor()))
        return fused_layernorm_channels_first(cl, weight, bias, eps, /*gelu=*/false, Tensor(), out_dtype);
    }
    return channels_first(x);
  }
};

struct GroupNorm {
  Tensor weight, bias;
  GroupNorm() = default;
  GroupNorm(Node& node, int64_t c, torch::Device device)
      : weight(param(node, "weight", {c}, device)), bias(param(node, "bias", {c}, device)) {}
  Tensor operator()(const Tensor& x) const {
    return at::group_norm(x.to(torch::kFloat), kGroupNormGroups, weight, bias, kGroupNormEps);
  }
};

// Bilinear resampling computed in fp32 and cast back (upstream's explicit casts).
Tensor resample(const Tensor& x, double scale) {
  const auto h = static_cast<int64_t>(std::floor(static_cast<double>(x.size(2)) * scale));
  const auto w = static_cast<int64_t>(std::floor(static_cast<double>(x.size(3)) * scale));
  return at::upsample_bilinear2d(x.to(torch::kFloat), {h, w}, /*align_corners=*/false, scale, scale)
      .to(x.scalar_type());
}

// ConvNextV2Layer: dwconv 7x7 -> NHWC -> LN -> Linear 4C -> GELU -> GRN -> Linear C -> NCHW -> + residual.
struct Layer {
  Conv dwconv;
  LayerNorm layernorm;
  Linear pwconv1, pwconv2;
  Tensor grn_weight, grn_bias;
  bool fused_kernels = false;  // fused CUDA ops where their *_supports() holds (opt-in)

  Layer(Node& node, int64_t c, torch::Device device) {
    dwconv = Conv(*add_child(node, "dwconv"), c, c, 7, device, true, /*groups=*/c, 1, /*padding=*/3);
    layernorm = LayerNorm(*add_child(node, "layernorm"), c, kBackboneLayerNormEps, device);
    pwconv1 = Linear(*add_child(node, "pwconv1"), c, 4 * c, device);
    auto grn = add_child(node, "grn");
    grn_weight = param(*grn, "weight", {1, 1, 1, 4 * c}, device);
    grn_bias = param(*grn, "bias", {1, 1, 1, 4 * c}, device);
    pwconv2 = Linear(*add_child(node, "pwconv2"), 4 * c, c, device);
  }
  // op_lap marks split the forward into op classes for OpProfiler (free when profiling is off).
  Tensor operator()(const Tensor& residual) const {
    Tensor normed;
    if (fused_kernels && fused_dwconv_layernorm_supports(residual, dwconv.weight)) {
      // Emits pwconv1's input dtype directly (its cast of the fp32 LayerNorm output).
      normed = fused_dwconv7_layernorm(residual, dwconv.weight, dwconv.bias, layernorm.weight, layernorm.bias,
                                       layernorm.eps, pwconv1.weight.scalar_type());
      op_lap("convnext.dwconv7x7_layernorm_fused", residual, normed);
    } else {
      const Tensor conv = dwconv(residual).permute({0, 2, 3, 1});
      op_lap("convnext.dwconv7x7", residual, conv);
      normed = layernorm.last_dim(conv);
      op_lap("convnext.layernorm", conv, normed);
    }
    const Tensor expanded = pwconv1(normed);
    op_lap("convnext.pwconv1", normed, expanded);
    if (fused_kernels && fused_gelu_grn_factor_supports(expanded)) return grn_folded_tail(residual, expanded);
    Tensor x;
    if (fused_kernels && fused_grn_supports(expanded)) {
      // Emits pwconv2's input dtype directly: bit-equal to the fp32 GRN result cast by pwconv2.
      x = fused_gelu_grn(expanded, grn_weight, grn_bias, /*apply_gelu=*/true, kGrnEps, pwconv2.weight.scalar_type(),
                         /*overwrite_x=*/true);
      op_lap("convnext.gelu_grn_fused", expanded, x);
    } else {
      x = gelu_grn_unfused(expanded);
    }
    const Tensor projected = pwconv2(x).permute({0, 3, 1, 2});
    op_lap("convnext.pwconv2", x, projected);
    Tensor out = residual + projected;
    op_lap("convnext.residual_add", residual, projected, out);
    return out;
  }
  // Fused tail (grn_fold.hpp): GELU + GRN statistics in one pass that leaves GELU in `expanded`, GRN folded
  // into per-image pwconv2 weights (no elementwise GRN pass over the 4C map), then residual + (projection +
  // bias) in one pass. Same math as the unfused tail; bf16 roundings fall in different places.
  Tensor grn_folded_tail(const Tensor& residual, const Tensor& expanded) const {
    const Tensor factor = fused_gelu_grn_factor(expanded, kGrnEps);
    op_lap("convnext.gelu_grn_statistics_fused", expanded, factor);
    const GrnFoldedLinear folded = fold_grn_into_linear(factor, grn_weight, grn_bias, pwconv2.weight, pwconv2.bias);
    const Tensor projected = per_image_linear(expanded, folded.weight).permute({0, 3, 1, 2});
    op_lap("convnext.pwconv2_grn_folded", expanded, projected);
    Tensor out = fused_residual_bias_add_supports(residual, projected, folded.bias)
                     ? fused_residual_bias_add(residual, projected, folded.bias)
                     : residual + (projected + folded.bias.view({1, -1, 1, 1}));
    op_lap("convnext.residual_bias_add", residual, projected, out);
    return out;
  }
  // Unfused reference: GELU, then GRN in fp32 (the result is fp32; pwconv2 casts it).
  Tensor gelu_grn_unfused(const Tensor& expanded) const {
    Tensor x = at::gelu(expanded);
    op_lap("convnext.gelu", expanded, x);
    // GRN: L2 norm over the whole image per channel (autocast runs vector_norm in fp32).
    const Tensor g = at::linalg_vector_norm(x.to(torch::kFloat), 2, torch::IntArrayRef{1, 2}, true);
    const Tensor n = g / (g.mean(-1, true) + kGrnEps);
    const Tensor activated = x;
    x = grn_weight * (x * n) + grn_bias + x;
    op_lap("convnext.grn", activated, x);
    return x;
  }
};

struct Stage {
  bool downsamples = false;
  LayerNorm down_norm;
  Conv down_conv;
  std::vector<Layer> layers;
};

// BiFPN conv unit: Sequential[DSConv(k1, no bias), BiFPNLayerNorm, GELU].
struct FusionUnit {
  Conv depthwise, pointwise;
  LayerNorm norm;
  FusionUnit(Node& node, int64_t f, torch::Device device) {
    auto ds = add_child(node, "0");
    depthwise = Conv(*add_child(*ds, "depthwise_conv"), f, f, 1, device, false, /*groups=*/f);
    pointwise = Conv(*add_child(*ds, "pointwise_conv"), f, f, 1, device, false);
    norm = LayerNorm(*add_child(node, "1"), f, kBifpnLayerNormEps, device);
  }
  // The depthwise 1x1 conv (no bias) is one multiply per element: done as a broadcast multiply in the
  // conv's dtype (bit-identical result; LibTorch 1.13's CPU conv would split it into one conv per channel).
  Tensor depthwise_scale(const Tensor& x) const {
    return x.to(depthwise.weight.scalar_type()) * depthwise.weight.view({1, -1, 1, 1});
  }
  // pointwise conv -> LayerNorm -> GELU, plus the node's residual (fp32, as the unfused ops promote).
  Tensor refine_scaled(const Tensor& scaled, const Tensor& residual, bool fused) const {
    const Tensor mixed = pointwise(scaled);
    op_lap("bifpn.dsconv1x1", scaled, mixed);
    if (fused && fused_layernorm_channels_first_supports(mixed, residual)) {
      Tensor out = fused_layernorm_channels_first(mixed, norm.weight, norm.bias, norm.eps, /*gelu=*/true, residual,
                                                  torch::kFloat);
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
};

// "m4", "q7", ... (built by appending: GCC 12 warns falsely on char* + std::string here).
std::string level_name(char pass, int level) {
  std::string name(1, pass);
  name += std::to_string(level);
  return name;
}

struct BifpnBlock {
  Tensor w_m, w_q, w_q_mask;
  std::vector<FusionUnit> m;  // m4, m5, m6 (index = level - 4)
  std::vector<FusionUnit> q;  // q5, q6, q7 (index = level - 5)

  BifpnBlock(Node& node, int64_t f, torch::Device device) {
    w_m = param(node, "w_m", {3, 2}, device);
    w_q = param(node, "w_q", {3, 3}, device);
    w_q_mask = node.register_buffer("w_q_mask",
                                    torch::empty({3, 3}, torch::TensorOptions().device(device).dtype(torch::kBool)));
    auto conv = add_child(node, "conv");
    for (int lvl = kBaseLevel; lvl < kBaseLevel + 3; ++lvl)
      m.emplace_back(*add_child(*conv, level_name('m', lvl)), f, device);
    for (int lvl = kBaseLevel + 1; lvl < kBaseLevel + 4; ++lvl)
      q.emplace_back(*add_child(*conv, level_name('q', lvl)), f, device);
  }

  // One BiFPN node: fuse the same-level maps with the resampled neighbour `other` (weights w, in that
  // order), refine with `unit`, add `residual`. Unfused: the upstream expression op for op.
  Tensor node(const std::vector<Tensor>& same, const Tensor& other, double scale, const Tensor& w,
              const FusionUnit& unit, const Tensor& residual) const {
    if (fused_kernels && fused_bifpn_fusion_supports(same, other, scale, unit.depthwise.weight)) {
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

  // p: 4 maps at strides 4, 8, 16, 32. Returns [m4, q5, q6, q7].
  std::vector<Tensor> operator()(const std::vector<Tensor>& p) const {
    // Top-down: m6, m5, m4 = fuse(p_level, upsample(upper)).
    std::vector<Tensor> mm(4);
    Tensor upper = p[3];
    for (int idx = 0; idx < 3; ++idx) {
      const int level = 2 - idx;  // 2, 1, 0
      mm[level] = node({p[level]}, upper, 2.0, at::relu(w_m[idx]), m[level], p[level]);
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
      out[level] = node({p_low, m_low}, out[level - 1], 0.5, at::relu(w_q[idx] * w_q_mask[idx]), q[idx], p_low);
    }
    return out;
  }
  bool fused_kernels = false;
};

struct HeadUnit {
  Conv conv;
  GroupNorm norm;
};

}  // namespace

struct PeakNet::Impl {
  PeakNetConfig config;
  std::shared_ptr<Node> root = std::make_shared<Node>();
  Conv patch_embeddings;
  LayerNorm embeddings_norm;
  std::vector<Stage> stages;
  std::vector<LayerNorm> hidden_states_norms;
  std::vector<Conv> backbone_to_bifpn;
  std::vector<BifpnBlock> bifpn;
  std::vector<std::vector<HeadUnit>> lateral;  // lateral[i] on BiFPN level i; units upsample if i > 0
  Conv head_segmask;
  Conv head_upsample;  // learned-upsample variant only
  torch::Device device{torch::kCPU};
  Precision precision = Precision::kFp32;
  bool channels_last = false;
  bool fused_kernels = false;

  Impl(const PeakNetConfig& c, torch::Device dev) : config(c), device(dev) {
    validate(c);
    const auto& hs = c.backbone_hidden_sizes;
    auto backbone = add_child(*root, "backbone");
    auto embeddings = add_child(*backbone, "embeddings");
    patch_embeddings = Conv(*add_child(*embeddings, "patch_embeddings"), c.num_channels, hs[0], kPatchSize, dev, true,
                            1, /*stride=*/kPatchSize);
    embeddings_norm = LayerNorm(*add_child(*embeddings, "layernorm"), hs[0], kBackboneLayerNormEps, dev);
    auto encoder_stages = add_child(*add_child(*backbone, "encoder"), "stages");
    for (size_t s = 0; s < 4; ++s) {
      auto stage_node = add_child(*encoder_stages, std::to_string(s));
      Stage stage;
      auto down = add_child(*stage_node, "downsampling_layer");
      if (s > 0) {
        stage.downsamples = true;
        stage.down_norm = LayerNorm(*add_child(*down, "0"), hs[s - 1], kBackboneLayerNormEps, dev);
        stage.down_conv = Conv(*add_child(*down, "1"), hs[s - 1], hs[s], 2, dev, true, 1, /*stride=*/2);
      }
      auto layers = add_child(*stage_node, "layers");
      for (int64_t j = 0; j < c.backbone_depths[s]; ++j)
        stage.layers.emplace_back(*add_child(*layers, std::to_string(j)), hs[s], dev);
      stages.push_back(std::move(stage));
    }
    auto norms = add_child(*backbone, "hidden_states_norms");
    for (size_t s = 0; s < 4; ++s)
      hidden_states_norms.emplace_back(*add_child(*norms, "stage" + std::to_string(s + 1)), hs[s],
                                       kBackboneLayerNormEps, dev);
    const int64_t f = c.bifpn_num_features;
    auto adapters = add_child(*root, "backbone_to_bifpn");
    for (size_t s = 0; s < 4; ++s)
      backbone_to_bifpn.emplace_back(*add_child(*adapters, std::to_string(s)), hs[s], f, 1, dev);
    auto blocks = add_child(*add_child(*root, "bifpn"), "blocks");
    for (int64_t b = 0; b < c.bifpn_num_blocks; ++b) bifpn.emplace_back(*add_child(*blocks, std::to_string(b)), f, dev);
    auto laterals = add_child(*root, "seg_lateral_layers");
    const int64_t oc = c.seg_out_channels;
    for (int i = 0; i < 4; ++i) {
      auto units_node = add_child(*add_child(*laterals, std::to_string(i)), "layers");
      std::vector<HeadUnit> units;
      for (int k = 0; k < std::max(i, 1); ++k) {
        auto unit = add_child(*units_node, std::to_string(k));
        HeadUnit u;
        u.conv = Conv(*add_child(*unit, "0"), k == 0 ? f : oc, oc, 3, dev, true, 1, 1, /*padding=*/1);
        u.norm = GroupNorm(*add_child(*unit, "1"), oc, dev);
        units.push_back(std::move(u));
      }
      lateral.push_back(std::move(units));
    }
    head_segmask = Conv(*add_child(*root, "head_segmask"), oc, c.num_classes, 1, dev);
    if (c.uses_learned_upsample) {
      // ConvTranspose2d(seg_out_channels -> num_classes, k6, s4, p1) on the stride-4 sum: 4x the size.
      head_upsample = Conv(*add_child(*add_child(*root, "head_upsample_layer"), "0"), oc, c.num_classes, 6, dev, true,
                           1, /*stride=*/4, /*padding=*/1, /*transposed=*/true);
    }
  }

  std::vector<Tensor> run_backbone(const Tensor& x) const {
    Tensor h;
    if (fused_kernels && fused_stem_layernorm_supports(x, patch_embeddings.weight)) {
      h = fused_stem_conv4x4_layernorm(x, patch_embeddings.weight, patch_embeddings.bias, embeddings_norm.weight,
                                       embeddings_norm.bias, embeddings_norm.eps);
      op_lap("stem.conv4x4_layernorm_fused", x, h);
    } else {
      const Tensor patches = patch_embeddings(x);
      op_lap("stem.conv4x4", x, patches);
      // fp32 out: the stage-0 residual stream is fp32 under autocast.
      h = embeddings_norm.channels_first(patches, fused_kernels, torch::kFloat);
      op_lap("stem.layernorm", patches, h);
    }
    std::vector<Tensor> features;
    for (size_t s = 0; s < 4; ++s) {
      const Stage& stage = stages[s];
      if (stage.downsamples) {
        const Tensor normed = stage.down_norm.channels_first(h, fused_kernels, stage.down_conv.weight.scalar_type());
        op_lap("downsample.layernorm", h, normed);
        h = stage.down_conv(normed);
        op_lap("downsample.conv2x2", normed, h);
      }
      for (const auto& layer : stage.layers) h = layer(h);
      features.push_back(
          hidden_states_norms[s].channels_first(h, fused_kernels, backbone_to_bifpn[s].weight.scalar_type()));
      op_lap("backbone.out_layernorm", h, features.back());
    }
    return features;
  }

  // Lateral branch i: i+1 (min 1) units of Conv3x3 -> GroupNorm -> GELU [-> upsample 2x if i > 0].
  // defer_last_upsample: return before the last upsample (the caller fuses it with the head's sum).
  Tensor run_lateral(size_t i, Tensor x, bool defer_last_upsample) const {
    for (size_t k = 0; k < lateral[i].size(); ++k) {
      const auto& u = lateral[i][k];
      const Tensor conv = u.conv(x);
      op_lap("head.conv3x3", x, conv);
      if (fused_kernels && fused_group_norm_supports(conv, kGroupNormGroups)) {
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
        if (defer_last_upsample && k + 1 == lateral[i].size()) break;
        const Tensor small = x;
        x = fused_kernels && fused_upsample2x_add_supports(x, Tensor()) ? fused_upsample2x_add(x, Tensor())
                                                                        : resample(x, 2.0);
        op_lap("head.upsample2x", small, x);
      }
    }
    return x;
  }

  // Adds one head branch to the running sum (coarsest first), upsampling it 2x first where it was deferred.
  void add_branch(Tensor& acc, Tensor branch, bool upsample) const {
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

  // Fused head end: the deferred upsamples, the sum and the segmask conv in one kernel -> the stride-4
  // logits. Undefined where it does not apply (unfused, learned upsample, unsupported shapes).
  Tensor fused_head_coarse_logits(const std::vector<Tensor>& branches) const {
    if (!fused_kernels || head_upsample.weight.defined()) return {};
    const std::vector<Tensor> coarse(branches.begin(), branches.end() - 1);
    const Tensor& finest = branches.back();
    if (!fused_head_sum_segmask_supports(finest, coarse, head_segmask.weight, head_segmask.bias)) return {};
    const Tensor coarse_logits = fused_head_sum_segmask(finest, coarse, head_segmask.weight, head_segmask.bias);
    op_lap("head.upsample_sum_segmask_fused", finest, coarse_logits);
    return coarse_logits;
  }

  PeakNetOutputs run(const Tensor& input, bool keep_intermediates) const {
    PeakNetOutputs out;
    Tensor x = input;
    if (channels_last) {
      x = x.contiguous(at::MemoryFormat::ChannelsLast);
      op_lap("input.channels_last", input, x);
    }
    std::vector<Tensor> feats = run_backbone(x);
    std::vector<Tensor> pyramid;
    for (size_t s = 0; s < 4; ++s) {
      pyramid.push_back(backbone_to_bifpn[s](feats[s]));
      op_lap("bifpn.adapter_conv1x1", feats[s], pyramid.back());
    }
    for (const auto& block : bifpn) pyramid = block(pyramid);
    // Head branches, coarsest first (upstream's accumulation order L3 + L2 + L1 + L0). Fused: branches 3..1
    // stop before their last upsample (small maps, kept until the fused head end consumes them all);
    // unfused: each full-resolution branch is added to the sum as soon as it exists.
    Tensor coarse_logits, acc;
    if (fused_kernels) {
      std::vector<Tensor> branches;
      for (size_t level : {3, 2, 1, 0}) branches.push_back(run_lateral(level, pyramid[level], level > 0));
      coarse_logits = fused_head_coarse_logits(branches);
      if (!coarse_logits.defined())
        for (size_t b = 0; b < branches.size(); ++b) add_branch(acc, branches[b], b + 1 < branches.size());
    } else {
      for (size_t level : {3, 2, 1, 0}) add_branch(acc, run_lateral(level, pyramid[level], false), false);
    }
    if (!coarse_logits.defined()) {
      coarse_logits = head_segmask(acc);
      op_lap("head.segmask_conv1x1", acc, coarse_logits);
    }
    Tensor logits = resample(coarse_logits, static_cast<double>(kHeadScale));
    op_lap("head.final_upsample4x", coarse_logits, logits);
    if (head_upsample.weight.defined()) {  // never with the fused head end: acc is the full sum here
      logits = logits + head_upsample(acc);
      op_lap("head.learned_upsample", acc, logits);
    }
    out.logits = logits;
    if (keep_intermediates) {
      out.backbone = std::move(feats);
      out.bifpn = std::move(pyramid);
    }
    return out;
  }
};

PeakNet::PeakNet(const PeakNetConfig& config, torch::Device device) : impl_(std::make_unique<Impl>(config, device)) {}
PeakNet::~PeakNet() = default;

const PeakNetConfig& PeakNet::config() const { return impl_->config; }
torch::Device PeakNet::device() const { return impl_->device; }
Precision PeakNet::precision() const { return impl_->precision; }

NamedTensors PeakNet::state_dict() const {
  // Python's state_dict order: each module's own parameters, then its buffers, then its children.
  NamedTensors out;
  for (const auto& item : impl_->root->named_modules("", /*include_self=*/true)) {
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto& p : item.value()->named_parameters(/*recurse=*/false))
      out.emplace_back(prefix + p.key(), p.value());
    for (const auto& b : item.value()->named_buffers(/*recurse=*/false)) out.emplace_back(prefix + b.key(), b.value());
  }
  return out;
}

int64_t PeakNet::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : impl_->root->parameters()) n += p.numel();
  return n;
}

void PeakNet::random_init(uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& [name, t] : state_dict()) {
    const bool is_bias = name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    Tensor value = torch::empty(t.sizes(), torch::TensorOptions().dtype(t.scalar_type()));
    if (name.find("w_q_mask") != std::string::npos) {
      value.fill_(true);
      value[2][0] = false;
    } else if (name.find(".w_m") != std::string::npos || name.find(".w_q") != std::string::npos) {
      value.fill_(1.0);
    } else if (name.find(".grn.") != std::string::npos || is_bias) {
      value.zero_();
    } else if (t.dim() == 1) {  // norm weights
      value.fill_(1.0);
    } else {  // conv / linear weights: fan-in scaled normal keeps activations bounded
      const double fan_in = static_cast<double>(t.numel() / t.size(0));
      value.normal_(0.0, 1.0 / std::sqrt(fan_in), gen);
    }
    t.copy_(value);
  }
}

void PeakNet::to(torch::Device device, Precision precision, bool channels_last) {
  torch::NoGradGuard no_grad;
  const torch::ScalarType low = compute_dtype(precision);
  const auto conv_weight = [&](Tensor& w, Tensor& b) {
    if (!w.defined()) return;
    auto fmt = channels_last && w.dim() == 4 ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    w.set_data(w.to(device, low).contiguous(fmt));
    if (b.defined()) b.set_data(b.to(device, low));
  };
  // Convolution/linear weights in the compute dtype; every other tensor fp32 (bool mask stays bool).
  for (auto& [name, t] : state_dict()) {
    if (t.scalar_type() == torch::kBool) t.set_data(t.to(device));
    else t.set_data(t.to(device, torch::kFloat));
  }
  auto& m = *impl_;
  Tensor none;
  conv_weight(m.patch_embeddings.weight, m.patch_embeddings.bias);
  for (auto& s : m.stages) {
    conv_weight(s.down_conv.weight, s.down_conv.bias);
    for (auto& l : s.layers) {
      conv_weight(l.dwconv.weight, l.dwconv.bias);
      conv_weight(l.pwconv1.weight, l.pwconv1.bias);
      conv_weight(l.pwconv2.weight, l.pwconv2.bias);
    }
  }
  for (auto& a : m.backbone_to_bifpn) conv_weight(a.weight, a.bias);
  for (auto& b : m.bifpn) {
    for (auto* units : {&b.m, &b.q})
      for (auto& u : *units) {
        conv_weight(u.depthwise.weight, none);
        conv_weight(u.pointwise.weight, none);
      }
  }
  for (auto& units : m.lateral)
    for (auto& u : units) conv_weight(u.conv.weight, u.conv.bias);
  conv_weight(m.head_segmask.weight, m.head_segmask.bias);
  conv_weight(m.head_upsample.weight, m.head_upsample.bias);
  m.device = device;
  m.precision = precision;
  m.channels_last = channels_last;
}

void PeakNet::check_input(const torch::Tensor& x) const {
  const auto shape = [&] { return std::string(c10::str(x.sizes())); };
  if (!x.defined()) throw std::invalid_argument("PeakNet input: undefined tensor");
  if (x.dim() != 4) throw std::invalid_argument("PeakNet input: expected (B, C, H, W), got shape " + shape());
  if (x.size(1) != impl_->config.num_channels)
    throw std::invalid_argument("PeakNet input: expected C = " + std::to_string(impl_->config.num_channels) +
                                " channels, got shape " + shape());
  if (x.size(0) < 1 || x.size(2) < 32 || x.size(3) < 32 || x.size(2) % 32 != 0 || x.size(3) % 32 != 0)
    throw std::invalid_argument("PeakNet input: H and W must be positive multiples of 32 (pad the frame), got shape " +
                                shape());
  if (!x.is_floating_point())
    throw std::invalid_argument(std::string("PeakNet input: expected a floating tensor, got ") +
                                std::string(c10::toString(x.scalar_type())));
  // "cuda" (no index) means the current device: compare the index only when the model has one.
  if (x.device().type() != impl_->device.type() ||
      (impl_->device.has_index() && x.device().index() != impl_->device.index()))
    throw std::invalid_argument("PeakNet input: tensor is on " + x.device().str() + ", model on " +
                                impl_->device.str());
}

torch::Tensor PeakNet::forward(const torch::Tensor& x) {
  check_input(x);
  c10::InferenceMode guard;
  return impl_->run(x, false).logits;
}

void PeakNet::set_fused_kernels(bool enabled) {
  for (auto& stage : impl_->stages)
    for (auto& layer : stage.layers) layer.fused_kernels = enabled;
  for (auto& block : impl_->bifpn) block.fused_kernels = enabled;
  impl_->fused_kernels = enabled;
}

bool PeakNet::fused_kernels() const { return impl_->fused_kernels; }

PeakNetOutputs PeakNet::forward_with_intermediates(const torch::Tensor& x) {
  check_input(x);
  c10::InferenceMode guard;
  return impl_->run(x, true);
}

}  // namespace peaknet::model
