#include <gtest/gtest.h>

#include "tensor_ops.hpp"

using namespace peaknet;
using namespace peaknet::inferd;

TEST(InferdTensorOps, PaddingReachesTheNextMultiple) {
  const Padding sut = padding_for(150, 224, 32);
  EXPECT_EQ(sut.bottom, 10u);
  EXPECT_EQ(sut.right, 0u);
  EXPECT_EQ(padding_for(1, 33, 32).right, 31u);
}

TEST(InferdTensorOps, UnsignedSixteenBitValuesAboveInt16MaxConvertExactly) {
  std::vector<uint16_t> pixels{0, 1, 32767, 32768, 65535, 40000};
  auto bytes = torch::from_blob(pixels.data(), {int64_t(pixels.size() * 2)}, torch::kByte).clone();
  const FrameShape shape{1, 2, 3, shm::DType::kU16};
  const torch::Tensor sut = frames_to_float(bytes, shape, 1);
  ASSERT_EQ(sut.sizes(), (std::vector<int64_t>{1, 1, 2, 3}));
  const auto flat = sut.flatten();
  for (size_t i = 0; i < pixels.size(); ++i) EXPECT_EQ(flat[int64_t(i)].item<float>(), float(pixels[i]));
}

TEST(InferdTensorOps, SignedAndFloatDtypesConvert) {
  std::vector<int32_t> ints{-5, 7};
  auto bytes = torch::from_blob(ints.data(), {8}, torch::kByte).clone();
  EXPECT_EQ(frames_to_float(bytes, FrameShape{1, 1, 2, shm::DType::kI32}, 1).flatten()[0].item<float>(), -5.f);
  std::vector<double> doubles{2.5, -1.25};
  bytes = torch::from_blob(doubles.data(), {16}, torch::kByte).clone();
  EXPECT_EQ(frames_to_float(bytes, FrameShape{1, 1, 2, shm::DType::kF64}, 1).flatten()[1].item<float>(), -1.25f);
}

TEST(InferdTensorOps, ModelInputMergesPanelsAndZeroPadsBottomRight) {
  const torch::Tensor frames = torch::ones({2, 3, 5, 7});
  const torch::Tensor sut = make_model_input(frames, padding_for(5, 7, 8), false);
  ASSERT_EQ(sut.sizes(), (std::vector<int64_t>{6, 1, 8, 8}));
  EXPECT_EQ(sut.index({0, 0, 4, 6}).item<float>(), 1.f);
  EXPECT_EQ(sut.index({0, 0, 5, 0}).item<float>(), 0.f);
  EXPECT_EQ(sut.index({5, 0, 0, 7}).item<float>(), 0.f);
}

TEST(InferdTensorOps, InstanceNormIsPerImageOverThePaddedImage) {
  torch::manual_seed(3);
  const torch::Tensor frames = torch::rand({2, 1, 30, 30}) * 100 + torch::tensor({0.f, 50.f}).view({2, 1, 1, 1});
  const torch::Tensor sut = make_model_input(frames, padding_for(30, 30, 32), true);
  for (int64_t i = 0; i < 2; ++i) {
    EXPECT_NEAR(sut[i].mean().item<float>(), 0.f, 1e-4);
    EXPECT_NEAR(sut[i].var(/*unbiased=*/false).item<float>(), 1.f, 1e-3);
  }
  // The padded zeros take part: the padding is no longer 0 after normalisation.
  EXPECT_LT(sut.index({0, 0, 31, 31}).item<float>(), -0.5f);
}

TEST(InferdTensorOps, CropLogitsRemovesPaddingAndRegroupsPanels) {
  const torch::Tensor logits = torch::arange(4 * 2 * 8 * 8, torch::kFloat).view({4, 2, 8, 8});
  const FrameShape shape{2, 5, 6, shm::DType::kF32};
  const torch::Tensor sut = crop_logits(logits.to(torch::kBFloat16).to(torch::kFloat), shape, 2);
  ASSERT_EQ(sut.sizes(), (std::vector<int64_t>{2, 2, 2, 5, 6}));
  EXPECT_TRUE(sut.is_contiguous());
  EXPECT_TRUE(torch::equal(sut[1][0], logits.to(torch::kBFloat16).to(torch::kFloat)[2].slice(1, 0, 5).slice(2, 0, 6)));
}
