#pragma once
// Fused GELU -> GRN (ConvNeXt-V2 global response normalisation) on channels_last activations, as a
// torch-op-like function. Opt-in (PeakNet::set_fused_kernels / ModelSpec::fused_kernels); the unfused
// torch ops stay the reference and the CPU path. Without CUDA LibTorch the fused op is absent:
// fused_grn_built() is false and fused_gelu_grn throws.
#include <torch/torch.h>

namespace peaknet::model {

/// True when this build carries the CUDA kernels (CUDA LibTorch).
bool fused_grn_built();

/// Whether fused_gelu_grn takes x: built, x on CUDA, 4-D (N,H,W,C) contiguous, fp32 or bf16.
bool fused_grn_supports(const torch::Tensor& x);

/// v = apply_gelu ? GELU(x) (exact erf form, rounded to x's dtype) : x;
/// Gx[n,c] = sqrt(sum_hw v^2) in fp32; Nx = Gx / (mean_c Gx + eps);
/// y = gamma * (v * Nx) + beta + v in fp32 (that op order), returned as out_dtype (fp32 or bf16).
/// gamma/beta: C fp32 values (any shape, e.g. (1,1,1,C)) on x's device. Matches the unfused torch ops
/// followed by .to(out_dtype) up to the order of the fp32 reduction. Throws std::invalid_argument on
/// an unsupported input. overwrite_x: x may be overwritten with v (the model passes pwconv1's output, which
/// nothing reads afterwards), so the apply pass reads v instead of evaluating erf a second time.
torch::Tensor fused_gelu_grn(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta,
                             bool apply_gelu, double eps, torch::ScalarType out_dtype, bool overwrite_x = false);

/// Whether fused_gelu_grn_factor takes x: fused_grn_supports(x) and the statistics pass can store GELU(x)
/// in place (16-byte aligned, C a multiple of 8 (bf16) / 4 (fp32), C / 8 resp. C / 4 <= 1024).
bool fused_gelu_grn_factor_supports(const torch::Tensor& x);

/// GRN without its elementwise pass: overwrites x with v = GELU(x) (exact erf, rounded to x's dtype) and
/// returns Nx = Gx / (mean_c Gx + eps) as (N, C) fp32, Gx[n,c] = sqrt(sum_hw v^2). GRN(v) is then
/// v * (1 + gamma*Nx) + beta, a per-image channel scale and a shift that grn_fold.hpp folds into the next
/// Linear layer's weights. Throws std::invalid_argument where fused_gelu_grn_factor_supports(x) is false.
torch::Tensor fused_gelu_grn_factor(const torch::Tensor& x, double eps);

}  // namespace peaknet::model
