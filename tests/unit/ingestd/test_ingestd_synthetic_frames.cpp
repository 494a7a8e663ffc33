#include <algorithm>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "ingestd/synthetic_frames.hpp"

namespace peaknet::ingestd {
namespace {

config::IngestdSyntheticConfig small_config(const std::string& dtype) {
  config::IngestdSyntheticConfig c;
  c.shape = {2, 48, 64};
  c.dtype = dtype;
  c.peaks_per_frame = 5;
  c.seed = 7;
  return c;
}

std::vector<std::byte> frame(const SyntheticFrames& sut, uint64_t index) {
  std::vector<std::byte> out(sut.frame_bytes());
  sut.fill(index, out);
  return out;
}

TEST(SyntheticFrames, ShapeAndDtypeFollowTheConfig) {
  for (const auto& [name, dtype] : std::vector<std::pair<std::string, shm::DType>>{{"float32", shm::DType::kF32},
                                                                                   {"float64", shm::DType::kF64},
                                                                                   {"uint16", shm::DType::kU16},
                                                                                   {"int32", shm::DType::kI32}}) {
    const SyntheticFrames sut(small_config(name));
    EXPECT_EQ(sut.dtype(), dtype) << name;
    EXPECT_EQ(sut.channels(), 2u);
    EXPECT_EQ(sut.height(), 48u);
    EXPECT_EQ(sut.width(), 64u);
    EXPECT_EQ(sut.frame_bytes(), 2u * 48 * 64 * shm::dtype_size(dtype)) << name;
  }
}

TEST(SyntheticFrames, SameSeedAndIndexGiveTheSameBytesWhateverCameBefore) {
  const SyntheticFrames first(small_config("float32"));
  const SyntheticFrames second(small_config("float32"));
  (void)frame(second, 0);
  (void)frame(second, 1);
  EXPECT_EQ(frame(first, 5), frame(second, 5));
  EXPECT_NE(frame(first, 5), frame(first, 6));
}

TEST(SyntheticFrames, DifferentSeedsGiveDifferentFrames) {
  auto other = small_config("float32");
  other.seed = 8;
  EXPECT_NE(frame(SyntheticFrames(small_config("float32")), 0), frame(SyntheticFrames(other), 0));
}

TEST(SyntheticFrames, PeaksStandOutOfTheBackground) {
  auto c = small_config("float32");
  c.noise_sigma = 1.0;
  c.background = 10.0;
  c.peak_amplitude = 1000.0;
  const SyntheticFrames sut(c);
  const auto bytes = frame(sut, 3);
  std::vector<float> values(bytes.size() / 4);
  std::memcpy(values.data(), bytes.data(), bytes.size());
  const float max = *std::max_element(values.begin(), values.end());
  std::vector<float> sorted = values;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  EXPECT_GT(max, 300.0f);
  EXPECT_NEAR(sorted[sorted.size() / 2], 10.0f, 1.0f);
}

TEST(SyntheticFrames, WrongBufferSizeIsRefused) {
  const SyntheticFrames sut(small_config("uint16"));
  std::vector<std::byte> too_small(sut.frame_bytes() - 2);
  EXPECT_THROW(sut.fill(0, too_small), std::invalid_argument);
}

TEST(SyntheticFrames, UnknownDtypeNameIsRefused) { EXPECT_THROW(parse_dtype_name("float16"), std::invalid_argument); }

}  // namespace
}  // namespace peaknet::ingestd
