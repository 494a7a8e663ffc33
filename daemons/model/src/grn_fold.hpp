#pragma once
// GRN folded into the Linear layer after it (ConvNeXt-V2 pwconv2). GRN(v) = v * (1 + gamma*Nx) + beta
// is a per-image scale of pwconv2's input channels plus a constant shift, so
//   pwconv2(GRN(v)) = v @ (W * (1 + gamma*Nx_n))^T + (b + W beta)
// — per-image weights (small: C_out x K per image) and one batched GEMM on v, instead of an elementwise
// pass that reads and writes the whole 4C-channel map. Torch ops only (CPU and CUDA).
#include <torch/torch.h>

namespace peaknet::model {

struct GrnFoldedLinear {
  torch::Tensor weight;  // (N, C_out, K) in the Linear weight's dtype: W * (1 + gamma * Nx_n)
  torch::Tensor bias;    // (C_out) fp32: b + W beta
};

/// factor: GRN's Nx as (N, K) fp32; gamma, beta: K values (any shape); weight (C_out, K), bias (C_out).
GrnFoldedLinear fold_grn_into_linear(const torch::Tensor& factor, const torch::Tensor& gamma, const torch::Tensor& beta,
                                     const torch::Tensor& weight, const torch::Tensor& bias);

/// v (N, H, W, K) contiguous, cast to the folded weight's dtype -> (N, H, W, C_out) = v @ weight[n]^T,
/// without the bias (the caller adds it, fused with the residual add on CUDA).
torch::Tensor per_image_linear(const torch::Tensor& v, const torch::Tensor& folded_weight);

}  // namespace peaknet::model
