// Fused GELU+GRN CUDA op (daemons/model/src/cuda) vs the unfused torch ops (the whole forward with fused
// kernels on vs off: test_fused_model.cpp). Label gpu: the CUDA cases skip without a CUDA device; the rejection
// cases run everywhere.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cuda/fused_grn.hpp"
#include "model_test_util.hpp"

namespace peaknet::model {
namespace {

constexpr double kEps = 1e-6;

// The unfused forward's ops (peaknet.cpp Layer::gelu_grn_unfused), then pwconv2's cast to out_dtype.
torch::Tensor reference(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta, bool gelu,
                        torch::ScalarType out_dtype) {
  const torch::Tensor v = gelu ? at::gelu(x) : x;
  const torch::Tensor g = at::linalg_vector_norm(v.to(torch::kFloat), 2, torch::IntArrayRef{1, 2}, true);
  const torch::Tensor n = g / (g.mean(-1, true) + kEps);
  return (gamma * (v * n) + beta + v).to(out_dtype);
}

struct Case {
  std::vector<int64_t> shape;  // N, H, W, C
  bool gelu;
};

std::string name_of(const Case& c) { return std::string(c10::str(c.shape)) + (c.gelu ? " gelu" : " no-gelu"); }

class FusedGrnCuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fused_grn_built()) GTEST_SKIP() << "build without CUDA LibTorch";
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
    torch::manual_seed(11);
  }
  // Odd C, N > 1, a C that is not a multiple of the vector width, and large H*W (many stat chunks).
  const std::vector<Case> cases_ = {{{1, 8, 8, 3}, true},     {{2, 17, 13, 37}, true},    {{3, 33, 31, 130}, true},
                                    {{2, 64, 48, 96}, false}, {{2, 240, 240, 384}, true}, {{1, 480, 480, 128}, true},
                                    {{2, 30, 30, 3072}, true}};  // 33m's last stage: 384 bf16 vectors per row
  static torch::Tensor channel_param(int64_t c) {
    return torch::randn({1, 1, 1, c}, torch::TensorOptions().device(torch::kCUDA)) * 0.5;
  }
};

TEST_F(FusedGrnCuda, Fp32MatchesUnfusedOps) {
  for (const auto& c : cases_) {
    const auto x = torch::randn(c.shape, torch::TensorOptions().device(torch::kCUDA)) * 2.0;
    const auto gamma = channel_param(c.shape[3]), beta = channel_param(c.shape[3]);
    const auto y = fused_gelu_grn(x, gamma, beta, c.gelu, kEps, torch::kFloat);
    const auto want = reference(x, gamma, beta, c.gelu, torch::kFloat);
    ASSERT_EQ(y.scalar_type(), torch::kFloat);
    ASSERT_EQ(y.sizes(), x.sizes());
    EXPECT_TRUE(torch::allclose(y, want, 1e-4, 1e-5))
        << name_of(c) << ": max abs diff " << (y - want).abs().max().item<float>();
  }
}

TEST_F(FusedGrnCuda, Bf16MatchesUnfusedOps) {
  for (const auto& c : cases_) {
    const auto x = (torch::randn(c.shape, torch::TensorOptions().device(torch::kCUDA)) * 2.0).to(torch::kBFloat16);
    const auto gamma = channel_param(c.shape[3]), beta = channel_param(c.shape[3]);
    // fp32 output: the same fp32 arithmetic on the same bf16 GELU values; only the reduction order differs.
    const auto y32 = fused_gelu_grn(x, gamma, beta, c.gelu, kEps, torch::kFloat);
    const auto want32 = reference(x, gamma, beta, c.gelu, torch::kFloat);
    EXPECT_TRUE(torch::allclose(y32, want32, 1e-4, 1e-4))
        << name_of(c) << ": max abs diff " << (y32 - want32).abs().max().item<float>();
    // bf16 output (what the model feeds pwconv2): within one bf16 rounding, and almost always bit-equal.
    const auto y16 = fused_gelu_grn(x, gamma, beta, c.gelu, kEps, torch::kBFloat16);
    const auto want16 = reference(x, gamma, beta, c.gelu, torch::kBFloat16);
    ASSERT_EQ(y16.scalar_type(), torch::kBFloat16);
    EXPECT_TRUE(torch::allclose(y16.to(torch::kFloat), want16.to(torch::kFloat), 1e-2, 1e-2)) << name_of(c);
    const double equal = test::agreement(y16, want16);
    std::printf("bf16 %s: bit-equal fraction %.6f\n", name_of(c).c_str(), equal);
    EXPECT_GE(equal, 0.99) << name_of(c);
  }
}

TEST_F(FusedGrnCuda, OverwritingXGivesTheSameResultAndLeavesGeluInX) {
  for (const auto& c : cases_) {
    if (!c.gelu) continue;
    const auto x = (torch::randn(c.shape, torch::TensorOptions().device(torch::kCUDA)) * 2.0).to(torch::kBFloat16);
    const auto gamma = channel_param(c.shape[3]), beta = channel_param(c.shape[3]);
    const auto want = fused_gelu_grn(x, gamma, beta, true, kEps, torch::kBFloat16);
    const auto gelu = at::gelu(x);
    const auto scratch = x.clone();
    const auto got = fused_gelu_grn(scratch, gamma, beta, true, kEps, torch::kBFloat16, /*overwrite_x=*/true);
    EXPECT_TRUE(torch::equal(got, want)) << name_of(c);
    // Where the vector statistics pass applies (C % 8 == 0) x now holds GELU(x); elsewhere it is untouched.
    const bool stored = c.shape[3] % 8 == 0;
    if (stored)  // our exact-erf GELU vs at::gelu: the same formula, rare last-ulp differences
      EXPECT_GE(test::agreement(scratch, gelu), 0.999) << name_of(c);
    else EXPECT_TRUE(torch::equal(scratch, x)) << name_of(c);
  }
}

TEST_F(FusedGrnCuda, FactorIsTheGrnNormAndLeavesGeluInX) {
  for (const auto& c : cases_) {
    if (!c.gelu) continue;
    for (const auto dtype : {torch::kFloat, torch::kBFloat16}) {
      const auto x = (torch::randn(c.shape, torch::TensorOptions().device(torch::kCUDA)) * 2.0).to(dtype);
      const int64_t vector = dtype == torch::kFloat ? 4 : 8;
      const bool supported = c.shape[3] % vector == 0;
      ASSERT_EQ(fused_gelu_grn_factor_supports(x), supported) << name_of(c);
      if (!supported) {
        EXPECT_THROW(fused_gelu_grn_factor(x, kEps), std::invalid_argument) << name_of(c);
        continue;
      }
      const auto gelu = at::gelu(x);
      const auto g = at::linalg_vector_norm(gelu.to(torch::kFloat), 2, torch::IntArrayRef{1, 2}, true);
      const auto want = (g / (g.mean(-1, true) + kEps)).reshape({c.shape[0], c.shape[3]});
      const auto scratch = x.clone();
      const auto factor = fused_gelu_grn_factor(scratch, kEps);
      ASSERT_EQ(factor.sizes(), want.sizes()) << name_of(c);
      ASSERT_EQ(factor.scalar_type(), torch::kFloat);
      EXPECT_TRUE(torch::allclose(factor, want, 1e-4, 1e-6))
          << name_of(c) << ": max abs diff " << (factor - want).abs().max().item<float>();
      EXPECT_GE(test::agreement(scratch, gelu), 0.999) << name_of(c);  // GELU now in x (rare last-ulp erf diffs)
    }
  }
}

TEST(FusedGrn, RejectsUnsupportedInputs) {
  const auto gamma = torch::zeros({1, 1, 1, 8}), beta = torch::zeros({1, 1, 1, 8});
  const auto cpu = torch::randn({1, 4, 4, 8});
  EXPECT_FALSE(fused_grn_supports(cpu));
  EXPECT_FALSE(fused_gelu_grn_factor_supports(cpu));
  EXPECT_THROW(fused_gelu_grn_factor(cpu, kEps), std::invalid_argument);
  EXPECT_THROW(fused_gelu_grn(cpu, gamma, beta, true, kEps, torch::kFloat), std::invalid_argument);
  if (!fused_grn_built() || !torch::cuda::is_available()) return;
  const auto gpu = cpu.to(torch::kCUDA);
  EXPECT_TRUE(fused_grn_supports(gpu));
  EXPECT_FALSE(fused_grn_supports(gpu.permute({0, 3, 1, 2})));  // not (N,H,W,C) contiguous
  EXPECT_FALSE(fused_grn_supports(gpu.to(torch::kHalf)));       // fp16: unfused path
  EXPECT_THROW(fused_gelu_grn(gpu, gamma, beta, true, kEps, torch::kFloat), std::invalid_argument);  // CPU params
  const auto g = gamma.to(torch::kCUDA);
  EXPECT_THROW(fused_gelu_grn(gpu, g.narrow(3, 0, 7), g, true, kEps, torch::kFloat), std::invalid_argument);
  EXPECT_THROW(fused_gelu_grn(gpu, g, g, true, kEps, torch::kHalf), std::invalid_argument);
}

}  // namespace
}  // namespace peaknet::model
