#include "grn_fold.hpp"

#include <stdexcept>
#include <string>

namespace peaknet::model {

GrnFoldedLinear fold_grn_into_linear(const torch::Tensor& factor, const torch::Tensor& gamma, const torch::Tensor& beta,
                                     const torch::Tensor& weight, const torch::Tensor& bias) {
  const int64_t k = weight.size(1);
  if (factor.dim() != 2 || factor.size(1) != k || gamma.numel() != k || beta.numel() != k ||
      bias.numel() != weight.size(0))
    throw std::invalid_argument(
        "fold_grn_into_linear: factor (N, K), gamma/beta K values and bias C_out values for a "
        "(C_out, K) = " +
        std::string(c10::str(weight.sizes())) + " weight, got factor " + std::string(c10::str(factor.sizes())));
  const torch::Tensor w = weight.to(torch::kFloat);
  // The scale is formed in fp32 and the scaled weight rounded once to the GEMM's dtype.
  const torch::Tensor scale = gamma.reshape({1, k}).to(torch::kFloat) * factor.to(torch::kFloat) + 1.0;
  GrnFoldedLinear folded;
  folded.weight = (w.unsqueeze(0) * scale.unsqueeze(1)).to(weight.scalar_type());
  folded.bias = bias.to(torch::kFloat) + at::matmul(w, beta.reshape({k}).to(torch::kFloat));
  return folded;
}

torch::Tensor per_image_linear(const torch::Tensor& v, const torch::Tensor& folded_weight) {
  if (v.dim() != 4 || folded_weight.dim() != 3 || v.size(0) != folded_weight.size(0) ||
      v.size(3) != folded_weight.size(2))
    throw std::invalid_argument(
        "per_image_linear: v (N,H,W,K) and weights (N,C_out,K) disagree: " + std::string(c10::str(v.sizes())) + " vs " +
        std::string(c10::str(folded_weight.sizes())));
  const int64_t n = v.size(0), h = v.size(1), w = v.size(2);
  const torch::Tensor rows = v.to(folded_weight.scalar_type()).reshape({n, h * w, v.size(3)});
  return at::bmm(rows, folded_weight.transpose(1, 2)).view({n, h, w, folded_weight.size(1)});
}

}  // namespace peaknet::model
