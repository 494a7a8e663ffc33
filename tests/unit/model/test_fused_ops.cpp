// The fused CUDA ops of docs/fused_kernels.md (dwconv7x7+LayerNorm, row LayerNorm+GELU+residual, BiFPN
// resample+fusion+depthwise scale, GroupNorm+GELU, upsample2x+sum, residual+bias, head sum+segmask) against
// the unfused torch ops they replace. Label gpu: the CUDA cases skip without a device; the "not built /
// unsupported" cases run everywhere.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cuda/fused_kernels.hpp"
#include "model_test_util.hpp"

namespace peaknet::model {
namespace {

const auto kCl = at::MemoryFormat::ChannelsLast;

torch::TensorOptions cuda_f32() { return torch::TensorOptions().device(torch::kCUDA); }

std::string shape_of(const torch::Tensor& t) {
  return std::string(c10::str(t.sizes())) + " " + std::string(c10::toString(t.scalar_type()));
}

// bf16 results: within a couple of bf16 ulps everywhere and mostly bit-equal (only the fp32 summation
// order differs from the unfused ops).
void expect_close(const torch::Tensor& got, const torch::Tensor& want, double tol, double min_equal,
                  const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  ASSERT_EQ(got.scalar_type(), want.scalar_type()) << what;
  const auto g = got.to(torch::kFloat), w = want.to(torch::kFloat);
  const float max_diff = (g - w).abs().max().item<float>();
  const double equal = test::agreement(got, want);
  std::printf("%s: max abs diff %.3g, bit-equal %.6f\n", what.c_str(), max_diff, equal);
  EXPECT_TRUE(torch::allclose(g, w, tol, tol)) << what << ": max abs diff " << max_diff;
  EXPECT_GE(equal, min_equal) << what;
}

class FusedOpsCuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fused_kernels_built()) GTEST_SKIP() << "build without CUDA LibTorch";
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
    torch::manual_seed(23);
  }
};

// --- dwconv 7x7 -> LayerNorm --------------------------------------------------------------------------

torch::Tensor dwconv_ln_reference(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                                  const torch::Tensor& g, const torch::Tensor& beta, torch::ScalarType out) {
  const auto conv = at::conv2d(x.to(torch::kBFloat16), w, b, {1, 1}, {3, 3}, {1, 1}, x.size(1));
  return at::layer_norm(conv.permute({0, 2, 3, 1}).to(torch::kFloat), {x.size(1)}, g, beta, 1e-6).to(out);
}

TEST_F(FusedOpsCuda, DwconvLayerNormMatchesConvThenLayerNorm) {
  // Tile edges (H, W not multiples of the 8x16 / 8x8 / 4x8 tiles), every tile configuration (C <= 96, 192,
  // 384, beyond) with full and partial channel chunks (24, 300, 516), C % 4 != 0 (scalar halo loads: 37),
  // C beyond the LayerNorm's registers (1536), fp32 and bf16 inputs (stage 0's residual stream is fp32),
  // with and without conv bias.
  struct Case {
    std::vector<int64_t> nchw;
    torch::ScalarType in;
    bool bias;
  };
  const std::vector<Case> cases = {
      {{1, 24, 9, 13}, torch::kFloat, true},      {{2, 96, 40, 48}, torch::kFloat, true},
      {{2, 192, 20, 24}, torch::kBFloat16, true}, {{1, 300, 15, 17}, torch::kBFloat16, false},
      {{1, 768, 12, 12}, torch::kBFloat16, true}, {{3, 37, 7, 5}, torch::kFloat, true},
      {{1, 516, 6, 9}, torch::kFloat, true},      {{1, 1536, 5, 6}, torch::kBFloat16, true}};  // the widest C taken
  for (const auto& c : cases) {
    const int64_t ch = c.nchw[1];
    const auto x = (torch::randn(c.nchw, cuda_f32()) * 2.0).to(c.in).contiguous(kCl);
    const auto w = (torch::randn({ch, 1, 7, 7}, cuda_f32()) * 0.2).to(torch::kBFloat16).contiguous(kCl);
    const auto b = c.bias ? (torch::randn({ch}, cuda_f32()) * 0.1).to(torch::kBFloat16) : torch::Tensor();
    const auto g = torch::randn({ch}, cuda_f32()) * 0.5 + 1.0, beta = torch::randn({ch}, cuda_f32()) * 0.1;
    ASSERT_TRUE(fused_dwconv_layernorm_supports(x, w)) << shape_of(x);
    for (auto out : {torch::kBFloat16, torch::kFloat}) {
      const auto got = fused_dwconv7_layernorm(x, w, b, g, beta, 1e-6, out);
      const auto want = dwconv_ln_reference(x, w, b, g, beta, out);
      // The conv output is rounded to bf16 before LayerNorm: a different fp32 summation order flips a
      // rounding now and then, which LayerNorm scales by rstd — hence the looser tolerance.
      expect_close(got, want, 5e-2, out == torch::kFloat ? 0.0 : 0.9,
                   "dwconv+ln " + shape_of(x) + " -> " + std::string(c10::toString(out)));
    }
  }
}

TEST_F(FusedOpsCuda, DwconvLayerNormRejectsWhatItCannotTake) {
  const auto x = torch::randn({1, 8, 16, 16}, cuda_f32()).contiguous(kCl);
  const auto w = torch::randn({8, 1, 7, 7}, cuda_f32()).to(torch::kBFloat16);
  EXPECT_TRUE(fused_dwconv_layernorm_supports(x, w));
  EXPECT_FALSE(fused_dwconv_layernorm_supports(x.contiguous(), w));       // NCHW memory
  EXPECT_FALSE(fused_dwconv_layernorm_supports(x, w.to(torch::kFloat)));  // fp32 weights: unfused
  EXPECT_FALSE(fused_dwconv_layernorm_supports(x, w.narrow(0, 0, 4)));    // C mismatch
  EXPECT_FALSE(fused_dwconv_layernorm_supports(x.to(torch::kHalf).contiguous(kCl), w));
  const auto ln = torch::ones({8}, cuda_f32());
  EXPECT_THROW(fused_dwconv7_layernorm(x.contiguous(), w, {}, ln, ln, 1e-6, torch::kFloat), std::invalid_argument);
  EXPECT_THROW(fused_dwconv7_layernorm(x, w, {}, ln.narrow(0, 0, 7), ln, 1e-6, torch::kFloat), std::invalid_argument);
}

// --- stem: 4x4 patch conv -> LayerNorm -----------------------------------------------------------------

TEST_F(FusedOpsCuda, StemLayerNormMatchesPatchConvThenLayerNorm) {
  // C = 96 (PeakNet-33M), 24 (tiny: lanes without a channel), 128 (the widest taken), 33 (C % 32 != 0);
  // fp32 and bf16 inputs, with and without conv bias; an odd pixel count (the last warp's pair is half empty).
  struct Case {
    int64_t n, c, h, w;
    torch::ScalarType in;
    bool bias;
  };
  const std::vector<Case> cases = {{2, 96, 64, 48, torch::kFloat, true},
                                   {1, 24, 20, 28, torch::kFloat, true},
                                   {1, 128, 12, 16, torch::kBFloat16, true},
                                   {3, 33, 4, 12, torch::kFloat, false},
                                   {1, 96, 36, 44, torch::kBFloat16, true}};
  for (const auto& c : cases) {
    const auto x = (torch::randn({c.n, 1, c.h, c.w}, cuda_f32()) * 3.0).to(c.in);
    const auto w = (torch::randn({c.c, 1, 4, 4}, cuda_f32()) * 0.3).to(torch::kBFloat16);
    const auto b = c.bias ? (torch::randn({c.c}, cuda_f32()) * 0.1).to(torch::kBFloat16) : torch::Tensor();
    const auto g = torch::randn({c.c}, cuda_f32()) * 0.5 + 1.0, beta = torch::randn({c.c}, cuda_f32()) * 0.1;
    ASSERT_TRUE(fused_stem_layernorm_supports(x, w)) << shape_of(x);
    const auto got = fused_stem_conv4x4_layernorm(x, w, b, g, beta, 1e-6);
    EXPECT_TRUE(got.is_contiguous(at::MemoryFormat::ChannelsLast));
    ASSERT_EQ(got.sizes(), torch::IntArrayRef({c.n, c.c, c.h / 4, c.w / 4}));
    // The unfused chain: autocast's bf16 conv (bias added to the bf16 output), LayerNorm over C in fp32.
    const auto conv = at::conv2d(x.to(torch::kBFloat16), w, b, {4, 4});
    const auto want =
        at::layer_norm(conv.permute({0, 2, 3, 1}).to(torch::kFloat), {c.c}, g, beta, 1e-6).permute({0, 3, 1, 2});
    // As for the dwconv: a different fp32 summation order flips a bf16 rounding of the conv now and then.
    expect_close(got, want, 5e-2, 0.0, "stem " + shape_of(x));
  }
}

TEST_F(FusedOpsCuda, StemLayerNormRejectsWhatItCannotTake) {
  const auto x = torch::randn({1, 1, 16, 16}, cuda_f32());
  const auto w = torch::randn({8, 1, 4, 4}, cuda_f32()).to(torch::kBFloat16);
  EXPECT_TRUE(fused_stem_layernorm_supports(x, w));
  EXPECT_FALSE(fused_stem_layernorm_supports(torch::randn({1, 2, 16, 16}, cuda_f32()), w));   // two channels
  EXPECT_FALSE(fused_stem_layernorm_supports(torch::randn({1, 1, 18, 16}, cuda_f32()), w));   // H % 4 != 0
  EXPECT_FALSE(fused_stem_layernorm_supports(x, w.to(torch::kFloat)));                        // fp32 weights
  EXPECT_FALSE(fused_stem_layernorm_supports(x, torch::zeros({129, 1, 4, 4}, w.options())));  // C > 128
  EXPECT_FALSE(fused_stem_layernorm_supports(x.cpu(), w.cpu()));
  const auto ln = torch::ones({8}, cuda_f32());
  EXPECT_THROW(fused_stem_conv4x4_layernorm(x, w, {}, ln.narrow(0, 0, 7), ln, 1e-6), std::invalid_argument);
}

// --- LayerNorm (+GELU, +residual) ---------------------------------------------------------------------

TEST_F(FusedOpsCuda, LayerNormGeluResidualMatchesTheTorchOps) {
  struct Case {
    std::vector<int64_t> shape;
    torch::ScalarType in;
    bool gelu;
    torch::ScalarType residual;
    bool has_residual;
    torch::ScalarType out;
  };
  const std::vector<Case> cases = {
      {{2, 7, 9, 96}, torch::kFloat, false, torch::kFloat, false, torch::kFloat},         // stem
      {{2, 5, 6, 192}, torch::kBFloat16, false, torch::kFloat, false, torch::kBFloat16},  // downsample -> conv
      {{1, 9, 11, 256}, torch::kBFloat16, true, torch::kBFloat16, true, torch::kFloat},   // BiFPN unit, bf16 input
      {{1, 9, 11, 256}, torch::kBFloat16, true, torch::kFloat, true, torch::kFloat},      // BiFPN unit, fp32 input
      {{3, 4, 4, 768}, torch::kFloat, true, torch::kFloat, false, torch::kFloat},
      {{1, 3, 3, 1000}, torch::kBFloat16, false, torch::kFloat, true, torch::kBFloat16},  // ragged last lane
      {{5, 33}, torch::kFloat, true, torch::kFloat, true, torch::kFloat}};
  for (const auto& c : cases) {
    const int64_t ch = c.shape.back();
    const auto x = (torch::randn(c.shape, cuda_f32()) * 3.0 + 0.5).to(c.in);
    const auto g = torch::randn({ch}, cuda_f32()) * 0.5 + 1.0, b = torch::randn({ch}, cuda_f32()) * 0.2;
    const auto r = c.has_residual ? torch::randn(c.shape, cuda_f32()).to(c.residual) : torch::Tensor();
    auto want = at::layer_norm(x.to(torch::kFloat), {ch}, g, b, 1e-6);
    if (c.gelu) want = at::gelu(want);
    if (c.has_residual) want = want + r;
    want = want.to(c.out);
    const auto got = fused_layernorm(x, g, b, 1e-6, c.gelu, r, c.out);
    expect_close(got, want, c.out == torch::kFloat ? 1e-4 : 1e-2, c.out == torch::kFloat ? 0.0 : 0.99,
                 "layernorm " + shape_of(x) + (c.gelu ? " gelu" : "") + (c.has_residual ? " +res" : ""));
  }
}

TEST_F(FusedOpsCuda, LayerNormChannelsFirstKeepsTheLayout) {
  const auto x = torch::randn({2, 64, 10, 12}, cuda_f32()).to(torch::kBFloat16).contiguous(kCl);
  const auto r = torch::randn({2, 64, 10, 12}, cuda_f32()).contiguous(kCl);
  const auto g = torch::ones({64}, cuda_f32()), b = torch::zeros({64}, cuda_f32());
  ASSERT_TRUE(fused_layernorm_channels_first_supports(x, r));
  const auto got = fused_layernorm_channels_first(x, g, b, 1e-6, true, r, torch::kFloat);
  EXPECT_TRUE(got.is_contiguous(kCl));
  const auto want =
      at::gelu(at::layer_norm(x.permute({0, 2, 3, 1}).to(torch::kFloat), {64}, g, b, 1e-6)).permute({0, 3, 1, 2}) + r;
  EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-4));
  EXPECT_FALSE(fused_layernorm_channels_first_supports(x.contiguous(), r));  // NCHW memory: unfused
  EXPECT_FALSE(fused_layernorm_channels_first_supports(x, r.contiguous()));
  EXPECT_FALSE(fused_layernorm_supports(torch::randn({4, 2048}, cuda_f32())));  // C above one warp's registers
  EXPECT_THROW(fused_layernorm(x.permute({0, 2, 3, 1}), g, b, 1e-6, false, r, torch::kFloat), std::invalid_argument);
}

// --- BiFPN resample + fusion + depthwise scale ----------------------------------------------------------

torch::Tensor resample_ref(const torch::Tensor& x, double scale) {
  const auto h = static_cast<int64_t>(std::floor(static_cast<double>(x.size(2)) * scale));
  const auto w = static_cast<int64_t>(std::floor(static_cast<double>(x.size(3)) * scale));
  return at::upsample_bilinear2d(x.to(torch::kFloat), {h, w}, false, scale, scale).to(x.scalar_type());
}

// peaknet.cpp's unfused BiFPN node input, op for op.
torch::Tensor fusion_reference(const std::vector<torch::Tensor>& same, const torch::Tensor& other, double scale,
                               const torch::Tensor& w, const torch::Tensor& dw) {
  const auto resampled = resample_ref(other, scale);
  torch::Tensor num = w[0] * same[0], den = w[0];
  for (size_t i = 1; i < same.size(); ++i) {
    num = num + w[static_cast<int64_t>(i)] * same[i];
    den = den + w[static_cast<int64_t>(i)];
  }
  const auto last = static_cast<int64_t>(same.size());
  num = num + w[last] * resampled;
  den = den + w[last];
  return (num / (den + 1e-5)).to(dw.scalar_type()) * dw.view({1, -1, 1, 1});
}

TEST_F(FusedOpsCuda, BifpnFusionMatchesResampleAndWeightedSum) {
  struct Case {
    int64_t c, h, w;
    double scale;
    torch::ScalarType a, b, other;
    int same;
  };
  const std::vector<Case> cases = {
      {256, 16, 20, 2.0, torch::kBFloat16, torch::kBFloat16, torch::kBFloat16, 1},  // block 0 top-down
      {256, 16, 20, 2.0, torch::kFloat, torch::kFloat, torch::kFloat, 1},           // block 1 top-down
      {64, 8, 10, 0.5, torch::kBFloat16, torch::kFloat, torch::kFloat, 2},          // bottom-up, mixed dtypes
      {64, 1, 1, 0.5, torch::kBFloat16, torch::kBFloat16, torch::kFloat, 2},        // 2x2 -> 1x1
      {40, 7, 9, 2.0, torch::kFloat, torch::kFloat, torch::kBFloat16, 1},           // odd size: unsupported
      {38, 6, 8, 2.0, torch::kBFloat16, torch::kFloat, torch::kFloat, 1},           // C % 4 != 0: scalar path
      {36, 4, 6, 0.5, torch::kFloat, torch::kBFloat16, torch::kBFloat16, 2}};       // 4-wide, bf16 + fp32 mix
  for (const auto& c : cases) {
    const auto make = [&](int64_t h, int64_t w, torch::ScalarType t) {
      return (torch::randn({2, c.c, h, w}, cuda_f32()) * 2.0).to(t).contiguous(kCl);
    };
    std::vector<torch::Tensor> same{make(c.h, c.w, c.a)};
    if (c.same == 2) same.push_back(make(c.h, c.w, c.b));
    const auto other =
        c.scale > 1.0 ? make(c.h / 2 + (c.h % 2), c.w / 2 + (c.w % 2), c.other) : make(c.h * 2, c.w * 2, c.other);
    const auto weights = torch::rand({c.same + 1}, cuda_f32()) + 0.1;
    for (auto dw_type : {torch::kBFloat16, torch::kFloat}) {
      const auto dw = (torch::randn({c.c, 1, 1, 1}, cuda_f32()) * 0.5).to(dw_type);
      const std::string what = "bifpn fusion C=" + std::to_string(c.c) + " " + std::to_string(c.h) + "x" +
                               std::to_string(c.w) + " scale " + std::to_string(c.scale) +
                               " same=" + std::to_string(c.same) + " -> " + std::string(c10::toString(dw_type));
      if (c.scale > 1.0 && (c.h % 2 || c.w % 2)) {  // an odd size is not 2x of anything: unsupported
        EXPECT_FALSE(fused_bifpn_fusion_supports(same, other, c.scale, dw)) << what;
        continue;
      }
      ASSERT_TRUE(fused_bifpn_fusion_supports(same, other, c.scale, dw)) << what;
      const auto got = fused_bifpn_fusion(same, other, c.scale, weights, 1e-5, dw);
      EXPECT_TRUE(got.is_contiguous(kCl)) << what;
      const auto want = fusion_reference(same, other, c.scale, weights, dw);
      expect_close(got, want, dw_type == torch::kFloat ? 1e-5 : 1e-2, dw_type == torch::kFloat ? 0.0 : 0.95, what);
    }
  }
}

// --- GroupNorm -> GELU (head) ------------------------------------------------------------------------------

TEST_F(FusedOpsCuda, GroupNormGeluMatchesTheTorchOps) {
  struct Case {
    std::vector<int64_t> nchw;
    int64_t groups;
    torch::ScalarType in;
    bool gelu;
  };
  const std::vector<Case> cases = {{{2, 256, 24, 20}, 32, torch::kBFloat16, true},    // the head's units
                                   {{1, 256, 120, 120}, 32, torch::kBFloat16, true},  // many row chunks
                                   {{3, 64, 5, 7}, 8, torch::kFloat, false},
                                   {{1, 2048, 4, 4}, 32, torch::kBFloat16, true}};  // widest C taken
  for (const auto& c : cases) {
    // A non-zero mean per channel: E[x^2] - E[x]^2 must not cancel badly.
    const auto x = (torch::randn(c.nchw, cuda_f32()) * 1.5 + 3.0).to(c.in).contiguous(kCl);
    const int64_t ch = c.nchw[1];
    const auto g = torch::randn({ch}, cuda_f32()) * 0.5 + 1.0, b = torch::randn({ch}, cuda_f32()) * 0.2;
    ASSERT_TRUE(fused_group_norm_supports(x, c.groups)) << shape_of(x);
    auto want = at::group_norm(x.to(torch::kFloat), c.groups, g, b, 1e-5);
    if (c.gelu) want = at::gelu(want);
    const auto got = fused_group_norm(x, c.groups, g, b, 1e-5, c.gelu, torch::kFloat);
    EXPECT_TRUE(got.is_contiguous(kCl));
    expect_close(got, want.contiguous(kCl), 2e-4, 0.0, "groupnorm " + shape_of(x) + (c.gelu ? " gelu" : ""));
    // bf16 output (16-byte stores from bf16 input, 8-byte from fp32): the fp32 result rounded once.
    const auto got16 = fused_group_norm(x, c.groups, g, b, 1e-5, c.gelu, torch::kBFloat16);
    expect_close(got16, want.to(torch::kBFloat16).contiguous(kCl), 2e-2, 0.99,
                 "groupnorm->bf16 " + shape_of(x) + (c.gelu ? " gelu" : ""));
  }
  const auto x = torch::randn({1, 60, 4, 4}, cuda_f32()).to(torch::kBFloat16).contiguous(kCl);
  EXPECT_FALSE(fused_group_norm_supports(x, 32));                               // C % groups != 0
  EXPECT_FALSE(fused_group_norm_supports(x, 6));                                // C % 8 != 0 for bf16
  EXPECT_FALSE(fused_group_norm_supports(x.narrow(1, 0, 56).contiguous(), 8));  // NCHW memory
  EXPECT_THROW(
      fused_group_norm(x, 32, torch::ones({60}, cuda_f32()), torch::zeros({60}, cuda_f32()), 1e-5, true, torch::kFloat),
      std::invalid_argument);
}

// --- upsample 2x (+ running sum) (head) -------------------------------------------------------------------

TEST_F(FusedOpsCuda, Upsample2xAddMatchesUpsampleThenAdd) {
  for (const auto& nchw : std::vector<std::vector<int64_t>>{{2, 256, 15, 15}, {1, 8, 1, 3}, {3, 64, 30, 20}}) {
    const auto x = torch::randn(nchw, cuda_f32()).contiguous(kCl);
    const auto acc = torch::randn({nchw[0], nchw[1], 2 * nchw[2], 2 * nchw[3]}, cuda_f32()).contiguous(kCl);
    const auto up = at::upsample_bilinear2d(x, {2 * nchw[2], 2 * nchw[3]}, false, 2.0, 2.0);
    ASSERT_TRUE(fused_upsample2x_add_supports(x, acc));
    ASSERT_TRUE(fused_upsample2x_add_supports(x, {}));
    expect_close(fused_upsample2x_add(x, {}), up.contiguous(kCl), 1e-6, 0.0, "upsample2x " + shape_of(x));
    expect_close(fused_upsample2x_add(x, acc), (acc + up).contiguous(kCl), 1e-6, 0.0, "upsample2x+acc " + shape_of(x));
  }
  const auto x = torch::randn({1, 8, 4, 4}, cuda_f32()).contiguous(kCl);
  EXPECT_FALSE(fused_upsample2x_add_supports(x.to(torch::kBFloat16), {}));  // fp32 only
  EXPECT_FALSE(fused_upsample2x_add_supports(x, torch::zeros({1, 8, 8, 9}, cuda_f32()).contiguous(kCl)));
  EXPECT_FALSE(fused_upsample2x_add_supports(torch::randn({1, 6, 4, 4}, cuda_f32()).contiguous(kCl), {}));
}

// --- residual + (x + bias) (ConvNeXt layer end) -----------------------------------------------------------

TEST_F(FusedOpsCuda, ResidualBiasAddMatchesTheTorchOps) {
  // The pairings the layers produce: fp32 residual (stage 0) or bf16 residual (later stages) with a bf16
  // GEMM output, the fp32 model, and a bf16 residual with an fp32 x (promotes to fp32).
  struct Case {
    std::vector<int64_t> nchw;
    torch::ScalarType residual, x;
  };
  const std::vector<Case> cases = {{{2, 96, 30, 34}, torch::kFloat, torch::kBFloat16},
                                   {{1, 768, 7, 9}, torch::kBFloat16, torch::kBFloat16},
                                   {{3, 4, 5, 3}, torch::kFloat, torch::kFloat},
                                   {{1, 40, 6, 6}, torch::kBFloat16, torch::kFloat}};
  for (const auto& c : cases) {
    const auto residual = torch::randn(c.nchw, cuda_f32()).to(c.residual).contiguous(kCl);
    const auto x = torch::randn(c.nchw, cuda_f32()).to(c.x).contiguous(kCl);
    const auto bias = torch::randn({c.nchw[1]}, cuda_f32());
    ASSERT_TRUE(fused_residual_bias_add_supports(residual, x, bias)) << shape_of(residual);
    const auto got = fused_residual_bias_add(residual, x, bias);
    // x + bias in fp32, then the add in fp32, rounded once to the promoted type.
    const auto want = (residual.to(torch::kFloat) + (x.to(torch::kFloat) + bias.view({1, -1, 1, 1})))
                          .to(at::result_type(residual, x));
    EXPECT_TRUE(got.is_contiguous(kCl)) << shape_of(residual);
    expect_close(got, want.contiguous(kCl), 1e-6, 1.0, "residual+bias " + shape_of(residual) + " + " + shape_of(x));
  }
  const auto r = torch::randn({1, 8, 4, 4}, cuda_f32()).contiguous(kCl);
  const auto b = torch::zeros({8}, cuda_f32());
  EXPECT_FALSE(fused_residual_bias_add_supports(r, r.contiguous(), b));  // NCHW x
  EXPECT_FALSE(fused_residual_bias_add_supports(r, torch::randn({1, 8, 4, 5}, cuda_f32()).contiguous(kCl), b));
  EXPECT_FALSE(fused_residual_bias_add_supports(r, r, torch::zeros({7}, cuda_f32())));  // bias size
  EXPECT_FALSE(fused_residual_bias_add_supports(r, r, b.to(torch::kBFloat16)));         // fp32 bias
  EXPECT_FALSE(fused_residual_bias_add_supports(torch::randn({1, 6, 4, 4}, cuda_f32()).contiguous(kCl),
                                                torch::randn({1, 6, 4, 4}, cuda_f32()).contiguous(kCl),
                                                torch::zeros({6}, cuda_f32())));  // C % 4
  EXPECT_THROW(fused_residual_bias_add(r, r, torch::zeros({7}, cuda_f32())), std::invalid_argument);
}

// --- head: upsample the coarse branches + sum + segmask conv ------------------------------------------------

TEST_F(FusedOpsCuda, HeadSumSegmaskMatchesUpsampleSumAndConv) {
  // The 33m head (C=256, 2 classes, 3 coarse branches), the tiny one (C=64), fewer coarse maps, no bias, K=3.
  struct Case {
    std::vector<int64_t> nchw;
    int coarse;
    int64_t classes;
    bool bias;
  };
  const std::vector<Case> cases = {{{2, 256, 24, 30}, 3, 2, true},
                                   {{1, 64, 16, 16}, 3, 2, true},
                                   {{3, 32, 6, 4}, 1, 3, false},
                                   {{1, 8, 2, 2}, 0, 1, true}};
  for (const auto& c : cases) {
    const int64_t n = c.nchw[0], ch = c.nchw[1], h = c.nchw[2], w = c.nchw[3];
    const auto finest = torch::randn(c.nchw, cuda_f32()).contiguous(kCl);
    std::vector<torch::Tensor> coarse;
    for (int i = 0; i < c.coarse; ++i)
      coarse.push_back(torch::randn({n, ch, h / 2, w / 2}, cuda_f32()).contiguous(kCl));
    const auto weight = (torch::randn({c.classes, ch, 1, 1}, cuda_f32()) * 0.1).to(torch::kBFloat16);
    const auto bias = c.bias ? torch::randn({c.classes}, cuda_f32()).to(torch::kBFloat16) : torch::Tensor();
    ASSERT_TRUE(fused_head_sum_segmask_supports(finest, coarse, weight, bias)) << shape_of(finest);
    const auto got = fused_head_sum_segmask(finest, coarse, weight, bias);
    ASSERT_EQ(got.sizes(), (std::vector<int64_t>{n, c.classes, h, w}));
    ASSERT_EQ(got.scalar_type(), torch::kBFloat16);
    // The unfused head: (up(c0) + up(c1) + up(c2)) + finest in fp32, bf16 cast, conv to bf16, then the bias.
    torch::Tensor sum;
    for (const auto& m : coarse) {
      const auto up = at::upsample_bilinear2d(m, {h, w}, false, 2.0, 2.0);
      sum = sum.defined() ? sum + up : up;
    }
    sum = sum.defined() ? sum + finest : finest;
    const auto conv =
        at::conv2d(sum.to(torch::kBFloat16).to(torch::kFloat), weight.to(torch::kFloat)).to(torch::kBFloat16);
    const auto want =
        c.bias ? (conv.to(torch::kFloat) + bias.to(torch::kFloat).view({1, -1, 1, 1})).to(torch::kBFloat16) : conv;
    // Only the fp32 order of the channel dot product differs: a bf16 ulp at most, almost always bit-equal.
    expect_close(got, want.contiguous(kCl), 2e-2, 0.98, "head sum+segmask " + shape_of(finest));
    // And close to cuDNN's bf16 conv with bias (what the unfused model runs).
    const auto cudnn = at::conv2d(sum.to(torch::kBFloat16), weight, bias);
    EXPECT_TRUE(torch::allclose(got.to(torch::kFloat), cudnn.to(torch::kFloat), 3e-2, 3e-2)) << shape_of(finest);
  }
  const auto f = torch::randn({1, 8, 4, 4}, cuda_f32()).contiguous(kCl);
  const auto w = torch::randn({2, 8, 1, 1}, cuda_f32()).to(torch::kBFloat16);
  const auto small = torch::randn({1, 8, 2, 2}, cuda_f32()).contiguous(kCl);
  EXPECT_FALSE(fused_head_sum_segmask_supports(f, {small}, w.to(torch::kFloat), {}));  // fp32 conv
  EXPECT_FALSE(fused_head_sum_segmask_supports(f, {torch::randn({1, 8, 3, 2}, cuda_f32()).contiguous(kCl)}, w, {}));
  EXPECT_FALSE(fused_head_sum_segmask_supports(f, {small, small, small, small}, w, {}));  // 4 coarse
  EXPECT_FALSE(
      fused_head_sum_segmask_supports(f, {small}, torch::randn({5, 8, 1, 1}, cuda_f32()).to(torch::kBFloat16), {}));
  EXPECT_FALSE(fused_head_sum_segmask_supports(f.contiguous(), {small}, w, {}));  // NCHW
  EXPECT_THROW(fused_head_sum_segmask(f, {small}, w.to(torch::kFloat), {}), std::invalid_argument);
}

TEST(FusedOps, UnavailableOrUnsupportedInputsAreRefusedNotMiscomputed) {
  const auto cpu = torch::randn({1, 8, 8, 8}).contiguous(kCl);
  const auto w = torch::randn({8, 1, 7, 7}).to(torch::kBFloat16);
  const auto ones = torch::ones({8});
  EXPECT_FALSE(fused_dwconv_layernorm_supports(cpu, w));
  EXPECT_FALSE(fused_layernorm_supports(cpu));
  EXPECT_FALSE(fused_layernorm_channels_first_supports(cpu, {}));
  EXPECT_FALSE(fused_bifpn_fusion_supports({cpu}, cpu, 1.0, ones));
  EXPECT_FALSE(fused_group_norm_supports(cpu, 4));
  EXPECT_FALSE(fused_upsample2x_add_supports(cpu, {}));
  EXPECT_FALSE(fused_residual_bias_add_supports(cpu, cpu, ones));
  EXPECT_FALSE(fused_head_sum_segmask_supports(cpu, {}, torch::ones({2, 8, 1, 1}).to(torch::kBFloat16), {}));
  EXPECT_THROW(fused_residual_bias_add(cpu, cpu, ones), std::invalid_argument);
  EXPECT_THROW(fused_group_norm(cpu, 4, ones, ones, 1e-5, true, torch::kFloat), std::invalid_argument);
  EXPECT_THROW(fused_upsample2x_add(cpu, {}), std::invalid_argument);
  EXPECT_THROW(fused_dwconv7_layernorm(cpu, w, {}, ones, ones, 1e-6, torch::kFloat), std::invalid_argument);
  EXPECT_THROW(fused_layernorm(cpu, ones, ones, 1e-6, false, {}, torch::kFloat), std::invalid_argument);
  EXPECT_THROW(fused_bifpn_fusion({cpu}, cpu, 2.0, ones, 1e-5, ones), std::invalid_argument);
}

}  // namespace
}  // namespace peaknet::model
