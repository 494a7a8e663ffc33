// GPU parity (label gpu; skipped without CUDA): bf16 masks agree with the golden f64 mask >= 98%,
// fp32 logits (cuDNN TF32 off; cuBLAS TF32 is off by default) within 1e-3 relative L2.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "model/peaknet.hpp"
#include "model/weights.hpp"
#include "model_test_util.hpp"

namespace peaknet::model {
namespace {

class GpuGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
    golden_ = read_safetensors(test::golden("tiny.golden.safetensors"));
    input_ = find_tensor(golden_, "input", "golden").to(torch::kCUDA);
  }
  NamedTensors golden_;
  torch::Tensor input_;
};

TEST_F(GpuGolden, Fp32MatchesReference) {
  at::globalContext().setAllowTF32CuDNN(false);
  PeakNet net(PeakNetConfig::tiny());
  load_weights(net, test::golden("tiny.safetensors"));
  net.to(torch::kCUDA, Precision::kFp32, false);
  const auto y = net.forward(input_);
  EXPECT_LE(test::relative_error(y, find_tensor(golden_, "logits_f64", "golden")), 1e-3);
  at::globalContext().setAllowTF32CuDNN(true);
}

TEST_F(GpuGolden, Bf16MaskAgreesWithReference) {
  for (bool channels_last : {false, true}) {
    PeakNet net(PeakNetConfig::tiny());
    load_weights(net, test::golden("tiny.safetensors"));
    net.to(torch::kCUDA, Precision::kBf16, channels_last);
    const auto y = net.forward(input_);
    EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
    const double agree = test::agreement(test::mask_of(y), find_tensor(golden_, "mask", "golden"));
    EXPECT_GE(agree, 0.98) << "channels_last=" << channels_last;
    const torch::Tensor upstream_bf16 = find_tensor(golden_, "logits_cuda_bf16_autocast", "golden");
    std::printf(
        "bf16 channels_last=%d: mask agreement with f64 %.4f, with upstream bf16 autocast %.4f, "
        "rel err vs upstream bf16 %.3g\n",
        int(channels_last), agree, test::agreement(test::mask_of(y), test::mask_of(upstream_bf16)),
        test::relative_error(y, upstream_bf16));
  }
}

}  // namespace
}  // namespace peaknet::model
