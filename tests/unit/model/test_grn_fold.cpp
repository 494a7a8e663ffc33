// GRN folded into pwconv2 (daemons/model/src/grn_fold.hpp) against the unfused GRN -> Linear ops of the
// ConvNeXt-V2 layer, on the CPU in fp32 (the CUDA model uses the same functions: test_fused_model.cpp).
#include <gtest/gtest.h>

#include <stdexcept>

#include "grn_fold.hpp"

namespace peaknet::model {
namespace {

constexpr double kEps = 1e-6;

struct Grn {
  torch::Tensor gamma, beta, weight, bias;
};

Grn random_layer(int64_t k, int64_t c_out) {
  return {torch::randn({1, 1, 1, k}) * 0.5, torch::randn({1, 1, 1, k}) * 0.5, torch::randn({c_out, k}) * 0.1,
          torch::randn({c_out})};
}

torch::Tensor grn_factor(const torch::Tensor& v) {
  const auto g = at::linalg_vector_norm(v, 2, torch::IntArrayRef{1, 2}, true);
  return g / (g.mean(-1, true) + kEps);
}

TEST(GrnFold, PerImageWeightsGiveTheLinearOfTheGrnOutput) {
  torch::manual_seed(3);
  for (const auto& nhwk : std::vector<std::vector<int64_t>>{{1, 5, 7, 16}, {3, 9, 4, 24}, {2, 1, 1, 8}}) {
    const int64_t c_out = nhwk[3] / 4 + 1;
    const auto v = at::gelu(torch::randn(nhwk) * 2.0);
    const Grn p = random_layer(nhwk[3], c_out);
    const auto nx = grn_factor(v);
    const auto want = at::linear(p.gamma * (v * nx) + p.beta + v, p.weight, p.bias);

    const auto folded = fold_grn_into_linear(nx.reshape({nhwk[0], nhwk[3]}), p.gamma, p.beta, p.weight, p.bias);
    ASSERT_EQ(folded.weight.sizes(), (std::vector<int64_t>{nhwk[0], c_out, nhwk[3]}));
    ASSERT_EQ(folded.bias.sizes(), (std::vector<int64_t>{c_out}));
    const auto got = per_image_linear(v, folded.weight) + folded.bias;
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-5))
        << c10::str(nhwk) << ": max abs diff " << (got - want).abs().max().item<float>();
  }
}

TEST(GrnFold, ImagesKeepTheirOwnFactor) {
  // Two images with very different energy: swapping their factors must change the result (the fold is per image).
  torch::manual_seed(4);
  const auto v = torch::cat({torch::randn({1, 6, 6, 8}), torch::randn({1, 6, 6, 8}) * 10.0});
  const Grn p = random_layer(8, 3);
  auto nx = grn_factor(v).reshape({2, 8});
  nx.select(1, 0).mul_(3.0);  // make channel 0 dominate differently per image
  const auto folded = fold_grn_into_linear(nx, p.gamma, p.beta, p.weight, p.bias);
  const auto swapped = fold_grn_into_linear(nx.flip({0}), p.gamma, p.beta, p.weight, p.bias);
  const auto a = per_image_linear(v, folded.weight), b = per_image_linear(v, swapped.weight);
  EXPECT_FALSE(torch::allclose(a, b, 1e-3, 1e-3));
  const auto want0 =
      at::linear(p.gamma * (v.narrow(0, 0, 1) * nx.narrow(0, 0, 1).view({1, 1, 1, 8})) + v.narrow(0, 0, 1), p.weight);
  EXPECT_TRUE(torch::allclose(a.narrow(0, 0, 1), want0, 1e-4, 1e-5));
}

TEST(GrnFold, MismatchedShapesAreRejectedWithTheShapes) {
  const Grn p = random_layer(8, 3);
  EXPECT_THROW(fold_grn_into_linear(torch::ones({2, 7}), p.gamma, p.beta, p.weight, p.bias), std::invalid_argument);
  EXPECT_THROW(fold_grn_into_linear(torch::ones({2, 8}), p.gamma, p.beta, p.weight, torch::ones({4})),
               std::invalid_argument);
  const auto folded = fold_grn_into_linear(torch::ones({2, 8}), p.gamma, p.beta, p.weight, p.bias);
  try {
    per_image_linear(torch::ones({3, 4, 4, 8}), folded.weight);  // 3 images, 2 weight sets
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[3, 4, 4, 8]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace peaknet::model
