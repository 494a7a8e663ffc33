// forward_flops against hand counts: the 33M from the shared reference (peaknet-model.md §2.2: 643.98 GMAC
// = 1.288 TFLOP per 1920^2 frame, 91.6 GFLOP per 512^2) and the 673M counted by hand per part below.
#include <gtest/gtest.h>

#include "model/flop_count.hpp"

namespace peaknet::model {
namespace {

constexpr double kGiga = 1e9;

TEST(FlopCount, PeakNet33mMatchesTheReferenceHandCount) {
  const ForwardFlops f = forward_flops(PeakNetConfig::peaknet_33m(), 1920, 1920);
  // Reference table (GMAC): stem 0.354, stages 54.21 + 52.59 + 155.32 + 51.37, downsample 12.74,
  // adapters 10.62, BiFPN 49.74, head 3x3 256.93 + 1x1 0.118.
  EXPECT_NEAR(f.stem / 2 / kGiga, 0.354, 0.001);
  EXPECT_NEAR(f.convnext_layers / 2 / kGiga, 54.21 + 52.59 + 155.32 + 51.37, 0.02);
  EXPECT_NEAR(f.downsample / 2 / kGiga, 12.74, 0.01);
  EXPECT_NEAR(f.adapters / 2 / kGiga, 10.62, 0.01);
  EXPECT_NEAR(f.bifpn / 2 / kGiga, 49.74, 0.01);
  EXPECT_NEAR(f.head / 2 / kGiga, 256.93 + 0.118, 0.01);
  EXPECT_NEAR(f.total() / 2 / kGiga, 643.98, 0.01);
  EXPECT_NEAR(f.total() / 1e12, 1.288, 0.001);
  EXPECT_NEAR(forward_flops(PeakNetConfig::peaknet_33m(), 512, 512).total() / kGiga, 91.6, 0.05);
}

TEST(FlopCount, PeakNet673mMatchesAHandCount) {
  const ForwardFlops f = forward_flops(PeakNetConfig::peaknet_673m(), 1920, 1920);
  // By hand, GMAC per 1920^2 frame (grids 480^2, 240^2, 120^2, 60^2 = 230400, 57600, 14400, 3600 pixels):
  //   layers: depth * (8 C^2 + 49 C) * grid = 3*(8*352^2+49*352)*230400 = 697.06, 3*(..704..)*57600 = 691.10,
  //           27*(8*1408^2+49*1408)*14400 = 6193.08, 3*(..2816..)*3600 = 686.63
  //   stem 16*352*230400 = 1.30; downsample 352*704*4*57600 + 704*1408*4*14400 + 1408*2816*4*3600 = 171.28
  //   adapters (352*230400 + 704*57600 + 1408*14400 + 2816*3600)*512 = 77.86
  //   BiFPN 4 blocks * (512 + 512^2) * (230400 + 2*57600 + 2*14400 + 3600) = 397.14
  //   head 3x3: 512*256*9*(230400+57600+14400+3600) + 256*256*9*(2*57600+14400) = 437.41;
  //   segmask 256*2*230400 = 0.118; learned upsample 256*2*36*230400 = 4.25
  EXPECT_NEAR(f.convnext_layers / 2 / kGiga, 697.06 + 691.10 + 6193.08 + 686.63, 0.05);
  EXPECT_NEAR(f.stem / 2 / kGiga, 1.30, 0.01);
  EXPECT_NEAR(f.downsample / 2 / kGiga, 171.28, 0.01);
  EXPECT_NEAR(f.adapters / 2 / kGiga, 77.86, 0.01);
  EXPECT_NEAR(f.bifpn / 2 / kGiga, 397.14, 0.01);
  EXPECT_NEAR(f.head / 2 / kGiga, 437.41 + 0.118 + 4.25, 0.01);
  EXPECT_NEAR(f.total() / 2 / kGiga, 9357.2, 0.1);
  EXPECT_NEAR(f.total() / 1e12, 18.7, 0.1);  // the "about 18.8 TFLOP per 1920^2 frame"
  // The stride-16 stage (27 layers at C = 1408) is about two thirds of the work.
  EXPECT_NEAR(6193.08 * 2 * kGiga / f.total(), 0.66, 0.01);
  // pwconv1 + pwconv2 (the GEMMs the fp8 option takes) are nearly all of the layers' work.
  EXPECT_GT(f.pwconv / f.convnext_layers, 0.99);
}

TEST(FlopCount, ScalesWithThePixelCount) {
  const auto c = PeakNetConfig::peaknet_33m();
  EXPECT_NEAR(forward_flops(c, 1024, 512).total(), 2.0 * forward_flops(c, 512, 512).total(), 1.0);
}

TEST(FlopCount, RejectsSizesThatAreNotMultiplesOf32) {
  try {
    forward_flops(PeakNetConfig::peaknet_33m(), 1900, 1920);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("1900x1920"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace peaknet::model
