#pragma once
// The fused CUDA ops of the PeakNet forward (see docs/fused_kernels.md). Each has a *_supports() check;
// the model uses an op only where it returns true and keeps the unfused torch ops everywhere else
// (CPU, fp16, shapes the kernels do not take). Without CUDA LibTorch nothing is built: every
// *_supports() is false and the ops throw std::invalid_argument.
#include <torch/torch.h>

#include <vector>

#include "fused_grn.hpp"

namespace peaknet::model {

/// True when this build carries the CUDA kernels (CUDA LibTorch).
bool fused_kernels_built();

// --- depthwise 7x7 conv -> LayerNorm (ConvNeXt layer) ---------------------------------------------
/// x: (N,C,H,W) channels_last float32/bfloat16 on CUDA; conv_weight (C,1,7,7) bfloat16 on x's device.
bool fused_dwconv_layernorm_supports(const torch::Tensor& x, const torch::Tensor& conv_weight);
/// LayerNorm_C(bf16(conv7x7(bf16(x)) + bias)) as (N,H,W,C) contiguous of out_dtype — what the unfused
/// dwconv -> permute -> layer_norm chain gives, cast as pwconv1 casts it. conv_bias may be undefined.
torch::Tensor fused_dwconv7_layernorm(const torch::Tensor& x, const torch::Tensor& conv_weight,
                                      const torch::Tensor& conv_bias, const torch::Tensor& ln_weight,
                                      const torch::Tensor& ln_bias, double eps, torch::ScalarType out_dtype);

// --- stem: 4x4 stride-4 patch conv -> embeddings LayerNorm ------------------------------------------
/// x: contiguous (N,1,H,W) float32/bfloat16 CUDA tensor, H and W multiples of 4; conv_weight (C,1,4,4)
/// bfloat16 on x's device, C <= 128.
bool fused_stem_layernorm_supports(const torch::Tensor& x, const torch::Tensor& conv_weight);
/// layer_norm_C(bf16(conv4x4_s4(bf16(x)) + bias)) in fp32 as an (N,C,H/4,W/4) channels_last tensor: what the
/// unfused patch conv -> channels_first LayerNorm gives the stage-0 residual stream. conv_bias may be undefined.
torch::Tensor fused_stem_conv4x4_layernorm(const torch::Tensor& x, const torch::Tensor& conv_weight,
                                           const torch::Tensor& conv_bias, const torch::Tensor& ln_weight,
                                           const torch::Tensor& ln_bias, double eps);

// --- LayerNorm over the last dim (+ GELU, + residual) -------------------------------------------------
/// x: contiguous float32/bfloat16 CUDA tensor whose last dim is at most 1024.
bool fused_layernorm_supports(const torch::Tensor& x);
/// [GELU](layer_norm(x.float())) [+ residual] as out_dtype; residual (optional) has x's shape, is
/// contiguous, float32 or bfloat16. Matches the unfused ops up to the fp32 reduction order.
torch::Tensor fused_layernorm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                              double eps, bool gelu, const torch::Tensor& residual, torch::ScalarType out_dtype);
/// The same on (N,C,H,W) channels_last maps, normalising over C (BiFPN/backbone channels_first norms);
/// returns an (N,C,H,W) channels_last tensor.
bool fused_layernorm_channels_first_supports(const torch::Tensor& x, const torch::Tensor& residual);
torch::Tensor fused_layernorm_channels_first(const torch::Tensor& x, const torch::Tensor& weight,
                                             const torch::Tensor& bias, double eps, bool gelu,
                                             const torch::Tensor& residual, torch::ScalarType out_dtype);

// --- BiFPN node input: resample + weighted fusion + depthwise 1x1 -------------------------------------
/// same: 1 or 2 same-level maps, other: the neighbouring level (scale_factor 2.0 = upsample a coarser
/// map, 0.5 = downsample a finer one); all (N,C,*,*) channels_last float32/bfloat16 CUDA tensors.
bool fused_bifpn_fusion_supports(const std::vector<torch::Tensor>& same, const torch::Tensor& other,
                                 double scale_factor, const torch::Tensor& depthwise_weight);
/// to(dw dtype)((w_0*same_0 [+ w_1*same_1] + w_last*resample(other)) / (sum w + eps)) * depthwise_weight,
/// with weights = the ReLU'd fusion weights (fp32 CUDA, same.size()+1 values). (N,C,H,W) channels_last.
torch::Tensor fused_bifpn_fusion(const std::vector<torch::Tensor>& same, const torch::Tensor& other,
                                 double scale_factor, const torch::Tensor& weights, double eps,
                                 const torch::Tensor& depthwise_weight);

// --- GroupNorm (+GELU) (segmentation head) --------------------------------------------------------------
/// x: (N,C,H,W) channels_last float32/bfloat16 CUDA tensor, C a multiple of groups and of 8 (bf16) / 4.
bool fused_group_norm_supports(const torch::Tensor& x, int64_t groups);
/// [GELU](group_norm(x.float(), groups, weight, bias, eps)) as out_dtype, (N,C,H,W) channels_last.
torch::Tensor fused_group_norm(const torch::Tensor& x, int64_t groups, const torch::Tensor& weight,
                               const torch::Tensor& bias, double eps, bool gelu, torch::ScalarType out_dtype);

// --- bilinear 2x upsample (+ accumulate) (segmentation head) -----------------------------------------------
/// x: (N,C,h,w) channels_last float32 CUDA tensor, C % 4 == 0; acc undefined or (N,C,2h,2w) like it.
bool fused_upsample2x_add_supports(const torch::Tensor& x, const torch::Tensor& acc);
/// [acc +] upsample_bilinear2d(x, scale 2, align_corners=False), fp32 (N,C,2h,2w) channels_last.
torch::Tensor fused_upsample2x_add(const torch::Tensor& x, const torch::Tensor& acc);

// --- residual + (x + bias) (ConvNeXt layer end, after the GRN-folded pwconv2) ----------------------------
/// residual, x: equal-size (N,C,H,W) channels_last float32/bfloat16 CUDA tensors, 16-byte aligned, C % 4 == 0;
/// bias: C float32 values on their device.
bool fused_residual_bias_add_supports(const torch::Tensor& residual, const torch::Tensor& x, const torch::Tensor& bias);
/// residual + (x + bias) in fp32, stored as result_type(residual, x); (N,C,H,W) channels_last.
torch::Tensor fused_residual_bias_add(const torch::Tensor& residual, const torch::Tensor& x, const torch::Tensor& bias);

// --- head: upsample the coarse branches + sum + segmask 1x1 conv ------------------------------------------
/// finest: (N,C,H,W) channels_last float32 CUDA (branch 0); coarse: up to 3 maps (N,C,H/2,W/2) like it (branches
/// 3, 2, 1 before their last upsample: the accumulation order); weight (K<=4,C,1,1) bfloat16; bias K bfloat16 or
/// undefined. C % 4 == 0, C <= 1024, H and W even.
bool fused_head_sum_segmask_supports(const torch::Tensor& finest, const std::vector<torch::Tensor>& coarse,
                                     const torch::Tensor& weight, const torch::Tensor& bias);
/// conv1x1(bf16((up(coarse[0]) + up(coarse[1]) + up(coarse[2])) + finest)) + bias as (N,K,H,W) channels_last
/// bfloat16 — the head's sum and segmask conv without the fp32 full-resolution sum in memory.
torch::Tensor fused_head_sum_segmask(const torch::Tensor& finest, const std::vector<torch::Tensor>& coarse,
                                     const torch::Tensor& weight, const torch::Tensor& bias);

}  // namespace peaknet::model
