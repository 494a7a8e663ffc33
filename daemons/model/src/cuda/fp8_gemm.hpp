#pragma once
// The fp8 (e4m3) GEMMs of precision fp8 (docs/fused_kernels.md, "fp8"): ConvNeXt pwconv1 / pwconv2 as
// at::_scaled_mm with row-wise scales — per output channel for the weights (quantised once), per row (pixel)
// for the activations (quantised per forward by one CUDA pass), bf16 output. Needs LibTorch >= 2.5 built with
// CUDA (row-wise _scaled_mm) and a GPU of compute capability >= 8.9; elsewhere fp8_gemm_built() is false and
// the functions throw std::invalid_argument saying why.
#include <string>

#include <torch/torch.h>

namespace peaknet::model {

/// True when this build can run the fp8 GEMMs (CUDA LibTorch >= 2.5).
bool fp8_gemm_built();
/// Empty when `device` can run them, else the reason (build, device type, compute capability).
std::string fp8_unavailable_reason(const torch::Device& device);

/// A Linear weight (N, K) quantised per output channel: q (N, K) float8 e4m3fn, scale (1, N) fp32 with
/// weight ~= q * scale^T.
struct Fp8Weight {
  torch::Tensor q, scale;
  bool defined() const { return q.defined(); }
};
/// Throws std::invalid_argument unless weight is a 2-D floating CUDA tensor with N and K multiples of 16.
Fp8Weight quantize_fp8_weight(const torch::Tensor& weight);

/// x (..., K) float32/bfloat16 CUDA; channel_scale optional (images, K) fp32, multiplying x's channels per image
/// (images divides x's rows: leading dims flattened). Returns x [* channel_scale] @ weight^T [+ bias] as (..., N)
/// bfloat16; bias (N) bfloat16 or undefined. Throws std::invalid_argument naming the argument at fault.
torch::Tensor fp8_linear(const torch::Tensor& x, const Fp8Weight& weight, const torch::Tensor& bias,
                         const torch::Tensor& channel_scale = torch::Tensor());

/// The row-wise activation quantisation alone (tests): q (rows, K) float8 e4m3fn, scale (rows, 1) fp32.
struct Fp8Rows {
  torch::Tensor q, scale;
};
/// Whether fp8_quantize_rows takes x: built, contiguous 2-D bfloat16 CUDA, K % 16 == 0, 16-byte aligned.
bool fp8_quantize_rows_supports(const torch::Tensor& x);
Fp8Rows fp8_quantize_rows(const torch::Tensor& x, const torch::Tensor& channel_scale = torch::Tensor());

}  // namespace peaknet::model
