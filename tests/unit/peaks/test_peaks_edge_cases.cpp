// Peak finding beyond the golden files: empty and full masks, the cap across panels, odd shapes and
// every image dtype against an independent flood-fill reference, and the IEEE mask rule under
// flush-to-zero / denormals-are-zero.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "peaks/component_labeller.hpp"
#include "peaks/peak_finder.hpp"
#include "reference_labeller.hpp"

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace peaknet::peaks {
namespace {

std::vector<uint8_t> random_mask(size_t n, double density, uint32_t seed) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution bit(density);
  std::vector<uint8_t> mask(n);
  for (auto& m : mask) m = bit(rng);
  return mask;
}

template <typename T>
std::vector<T> random_image(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<T> image(n);
  for (auto& v : image) {
    if constexpr (std::is_floating_point_v<T>) {
      v = static_cast<T>(std::uniform_real_distribution<double>(-50.0, 1000.0)(rng));
    } else {
      const double lo = std::is_signed_v<T> ? -100.0 : 0.0;
      v = static_cast<T>(std::uniform_real_distribution<double>(lo, 120.0)(rng));
    }
  }
  return image;
}

template <typename T>
void expect_matches_reference(const std::vector<uint8_t>& mask, const std::vector<T>& image, shm::DType dtype,
                              uint32_t h, uint32_t w, const std::string& where) {
  const auto expected = testing::reference_components(mask.data(), image.data(), h, w);
  const EventPeaks got = find_peaks(mask.data(), {image.data(), dtype}, 1, h, w, {UINT32_MAX, 0});
  ASSERT_EQ(got.n_found, expected.size()) << where;
  ASSERT_EQ(got.peaks.size(), expected.size()) << where;
  for (size_t i = 0; i < expected.size(); ++i) {
    const std::string at = where + " component " + std::to_string(i);
    EXPECT_EQ(got.peaks[i].npix, expected[i].npix) << at;
    EXPECT_EQ(got.peaks[i].y, expected[i].y) << at;  // exact: integer sums, one division
    EXPECT_EQ(got.peaks[i].x, expected[i].x) << at;
    EXPECT_NEAR(got.peaks[i].intensity_sum, expected[i].intensity_sum,
                1e-12 * std::max(1.0, std::abs(expected[i].intensity_sum)))
        << at;
    EXPECT_EQ(got.peaks[i].intensity_max, static_cast<float>(expected[i].intensity_max)) << at;
    EXPECT_EQ(got.peaks[i].panel, 0u) << at;
  }
}

TEST(PeaksEdgeCases, EmptyMaskGivesNoPeaksAndNoHit) {
  const std::vector<uint8_t> mask(64 * 80, 0);
  const EventPeaks sut = find_peaks(mask.data(), {}, 1, 64, 80, {});
  EXPECT_EQ(sut.n_found, 0u);
  EXPECT_TRUE(sut.peaks.empty());
  EXPECT_FALSE(sut.hit);
  EXPECT_TRUE(find_peaks(mask.data(), {}, 1, 64, 80, {2048, 0}).hit) << "min_num_peak 0: every event hits";
}

TEST(PeaksEdgeCases, ZeroPanelsOrZeroSizeGiveNothing) {
  const uint8_t one = 1;
  EXPECT_EQ(find_peaks(&one, {}, 0, 1, 1, {}).n_found, 0u);
  EXPECT_EQ(find_peaks(&one, {}, 1, 0, 1, {}).n_found, 0u);
  EXPECT_EQ(find_peaks(&one, {}, 1, 1, 0, {}).n_found, 0u);
  const EventPeaks single = find_peaks(&one, {}, 1, 1, 1, {2048, 1});
  ASSERT_EQ(single.peaks.size(), 1u);
  EXPECT_EQ(single.peaks[0].y, 0.0);
  EXPECT_EQ(single.peaks[0].x, 0.0);
  EXPECT_TRUE(single.hit);
}

TEST(PeaksEdgeCases, AllOnesMaskIsOneComponentAtTheCentreWithExactSums) {
  constexpr uint32_t kH = 37, kW = 53;
  const std::vector<uint8_t> mask(kH * kW, 1);
  const auto image = random_image<uint16_t>(kH * kW, 5);
  const EventPeaks sut = find_peaks(mask.data(), {image.data(), shm::DType::kU16}, 1, kH, kW, {});
  ASSERT_EQ(sut.peaks.size(), 1u);
  EXPECT_EQ(sut.peaks[0].y, 18.0);
  EXPECT_EQ(sut.peaks[0].x, 26.0);
  EXPECT_EQ(sut.peaks[0].npix, kH * kW);
  double sum = 0;
  uint16_t max = 0;
  for (const uint16_t v : image) {
    sum += v;
    max = std::max(max, v);
  }
  EXPECT_EQ(sut.peaks[0].intensity_sum, sum);
  EXPECT_EQ(sut.peaks[0].intensity_max, static_cast<float>(max));
}

TEST(PeaksEdgeCases, CapKeepsPanelThenLabelOrderAndCountsEveryComponent) {
  // 3 panels of 20x20 with 100 isolated pixels each (2-pixel lattice).
  constexpr uint32_t kPanels = 3, kH = 20, kW = 20;
  std::vector<uint8_t> mask(kPanels * kH * kW, 0);
  for (uint32_t p = 0; p < kPanels; ++p)
    for (uint32_t y = 0; y < kH; y += 2)
      for (uint32_t x = 0; x < kW; x += 2) mask[(p * kH + y) * kW + x] = 1;
  const EventPeaks sut = find_peaks(mask.data(), {}, kPanels, kH, kW, {150, 300});
  EXPECT_EQ(sut.n_found, 300u);
  EXPECT_TRUE(sut.hit) << "hit is decided before the cap";
  ASSERT_EQ(sut.peaks.size(), 150u);
  for (uint32_t i = 0; i < 150; ++i) {
    const uint32_t in_panel = i % 100;
    EXPECT_EQ(sut.peaks[i].panel, i / 100) << i;
    EXPECT_EQ(sut.peaks[i].y, 2.0 * (in_panel / 10)) << i;
    EXPECT_EQ(sut.peaks[i].x, 2.0 * (in_panel % 10)) << i;
  }
  EventPeaks none_kept = sut;  // the reusing overload must reset everything it reports
  find_peaks(mask.data(), {}, kPanels, kH, kW, {0, 301}, none_kept);
  EXPECT_EQ(none_kept.n_found, 300u);
  EXPECT_TRUE(none_kept.peaks.empty());
  EXPECT_FALSE(none_kept.hit);
}

TEST(PeaksEdgeCases, RandomMasksOfOddShapesMatchFloodFillReference) {
  const std::vector<std::pair<uint32_t, uint32_t>> shapes = {{1, 1}, {1, 257},  {257, 1},  {37, 53},
                                                             {3, 9}, {64, 200}, {200, 64}, {9, 7}};
  const std::vector<double> densities = {0.02, 0.2, 0.45, 0.6, 0.95};
  uint32_t seed = 1;
  for (const auto& [h, w] : shapes) {
    for (const double density : densities) {
      const auto mask = random_mask(static_cast<size_t>(h) * w, density, seed++);
      const auto image = random_image<int32_t>(mask.size(), seed++);
      expect_matches_reference(mask, image, shm::DType::kI32, h, w,
                               std::to_string(h) + "x" + std::to_string(w) + " p=" + std::to_string(density));
    }
  }
}

TEST(PeaksEdgeCases, EveryImageDtypeSumsAndMaxima) {
  constexpr uint32_t kH = 41, kW = 67;
  const auto mask = random_mask(kH * kW, 0.4, 99);
  expect_matches_reference(mask, random_image<uint8_t>(mask.size(), 1), shm::DType::kU8, kH, kW, "u8");
  expect_matches_reference(mask, random_image<uint16_t>(mask.size(), 2), shm::DType::kU16, kH, kW, "u16");
  expect_matches_reference(mask, random_image<uint32_t>(mask.size(), 3), shm::DType::kU32, kH, kW, "u32");
  expect_matches_reference(mask, random_image<uint64_t>(mask.size(), 4), shm::DType::kU64, kH, kW, "u64");
  expect_matches_reference(mask, random_image<int8_t>(mask.size(), 5), shm::DType::kI8, kH, kW, "i8");
  expect_matches_reference(mask, random_image<int16_t>(mask.size(), 6), shm::DType::kI16, kH, kW, "i16");
  expect_matches_reference(mask, random_image<int32_t>(mask.size(), 7), shm::DType::kI32, kH, kW, "i32");
  expect_matches_reference(mask, random_image<int64_t>(mask.size(), 8), shm::DType::kI64, kH, kW, "i64");
  expect_matches_reference(mask, random_image<float>(mask.size(), 9), shm::DType::kF32, kH, kW, "f32");
  expect_matches_reference(mask, random_image<double>(mask.size(), 10), shm::DType::kF64, kH, kW, "f64");
}

TEST(PeaksEdgeCases, MultiPanelImageOffsetsFollowThePanel) {
  constexpr uint32_t kPanels = 4, kH = 16, kW = 24;
  const auto mask = random_mask(kPanels * kH * kW, 0.3, 11);
  const auto image = random_image<int16_t>(mask.size(), 12);
  const EventPeaks sut = find_peaks(mask.data(), {image.data(), shm::DType::kI16}, kPanels, kH, kW, {UINT32_MAX, 0});
  size_t next = 0;
  for (uint32_t p = 0; p < kPanels; ++p) {
    const size_t offset = static_cast<size_t>(p) * kH * kW;
    const auto expected = testing::reference_components(mask.data() + offset, image.data() + offset, kH, kW);
    for (const auto& c : expected) {
      ASSERT_LT(next, sut.peaks.size());
      EXPECT_EQ(sut.peaks[next].panel, p);
      EXPECT_EQ(sut.peaks[next].y, c.y);
      EXPECT_EQ(sut.peaks[next].intensity_sum, c.intensity_sum) << "integer sums are exact";
      ++next;
    }
  }
  EXPECT_EQ(next, sut.peaks.size());
  EXPECT_EQ(sut.n_found, sut.peaks.size());
}

TEST(PeaksEdgeCases, NonzeroMaskBytesAreForegroundAndNoImageGivesZeroIntensity) {
  const std::vector<uint8_t> mask = {255, 2, 0, 0, 0, 0, 0, 9};
  const EventPeaks sut = find_peaks(mask.data(), {}, 1, 2, 4, {});
  ASSERT_EQ(sut.peaks.size(), 2u);
  EXPECT_EQ(sut.peaks[0].npix, 2u);
  EXPECT_EQ(sut.peaks[0].x, 0.5);
  EXPECT_EQ(sut.peaks[1].y, 1.0);
  EXPECT_EQ(sut.peaks[0].intensity_sum, 0.0);
  EXPECT_EQ(sut.peaks[0].intensity_max, 0.0f);
}

TEST(PeaksEdgeCases, UnknownImageDtypeIsRejected) {
  const uint8_t mask = 1;
  const float value = 1.0f;
  EXPECT_THROW(find_peaks(&mask, {&value, static_cast<shm::DType>(42)}, 1, 1, 1, {}), std::invalid_argument);
}

struct LogitPair {
  float logit0, logit1;
  uint8_t expected;
};

std::vector<LogitPair> ieee_corner_cases() {
  const float denorm = std::numeric_limits<float>::denorm_min();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  return {{0.0f, -0.0f, 0},
          {-0.0f, 0.0f, 0},
          {0.0f, denorm, 1},
          {denorm, 0.0f, 0},
          {-denorm, -0.0f, 1},
          {-0.0f, -denorm, 0},
          {denorm, 2 * denorm, 1},
          {1.0f, 1.0f, 0},
          {1.0f, std::nextafter(1.0f, 2.0f), 1},
          {nan, 1.0f, 0},
          {1.0f, nan, 0},
          {-inf, inf, 1},
          {FLT_MAX, inf, 1},
          {-FLT_MAX, -inf, 0},
          {-2.0f, -1.0f, 1},
          {-1.0f, -2.0f, 0},
          {FLT_MIN, FLT_MIN - denorm, 0}};
}

void expect_mask_rule(const std::string& mode) {
  const auto cases = ieee_corner_cases();
  const auto n = static_cast<uint32_t>(cases.size());
  std::vector<float> logits(2 * n);
  for (uint32_t i = 0; i < n; ++i) {
    logits[i] = cases[i].logit0;
    logits[n + i] = cases[i].logit1;
  }
  std::vector<uint8_t> mask(n, 7);
  mask_from_logits(logits.data(), 1, 1, n, mask.data());
  for (uint32_t i = 0; i < n; ++i) {
    EXPECT_EQ(mask[i], cases[i].expected) << mode << ": logit0 " << cases[i].logit0 << " logit1 " << cases[i].logit1;
  }
}

TEST(PeaksMaskRule, IeeeTiesSignedZerosSubnormalsAndNan) { expect_mask_rule("default FPU mode"); }

#if defined(__SSE__)
TEST(PeaksMaskRule, SubnormalsCompareExactlyUnderFlushToZeroAndDenormalsAreZero) {
  struct MxcsrGuard {
    unsigned saved = _mm_getcsr();
    ~MxcsrGuard() { _mm_setcsr(saved); }
  } guard;
  _mm_setcsr(guard.saved | 0x8040);  // FTZ (bit 15) | DAZ (bit 6)
  expect_mask_rule("FTZ+DAZ");
}
#endif

TEST(PeaksMaskRule, RandomLogitsEqualFloatComparison) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  constexpr uint32_t kPanels = 2, kH = 33, kW = 35;
  std::vector<float> logits(kPanels * 2 * kH * kW);
  for (auto& v : logits) v = normal(rng);
  std::vector<uint8_t> mask(kPanels * kH * kW);
  mask_from_logits(logits.data(), kPanels, kH, kW, mask.data());
  for (uint32_t p = 0; p < kPanels; ++p)
    for (uint32_t i = 0; i < kH * kW; ++i)
      ASSERT_EQ(mask[p * kH * kW + i], logits[(2 * p + 1) * kH * kW + i] > logits[2 * p * kH * kW + i]);
}

TEST(PeaksMaskRule, FusedLogitsPathEqualsMaskThenFindPeaksOnManyPanels) {
  std::mt19937 rng(21);
  std::normal_distribution<float> normal(-0.8f, 1.0f);
  constexpr uint32_t kPanels = 3, kH = 45, kW = 71;
  std::vector<float> logits(kPanels * 2 * kH * kW);
  for (auto& v : logits) v = normal(rng);
  const auto image = random_image<float>(kPanels * kH * kW, 22);
  std::vector<uint8_t> mask(kPanels * kH * kW);
  mask_from_logits(logits.data(), kPanels, kH, kW, mask.data());
  const PeakParams params{30, 10};
  const EventPeaks expected = find_peaks(mask.data(), {image.data(), shm::DType::kF32}, kPanels, kH, kW, params);
  const EventPeaks sut =
      find_peaks_from_logits(logits.data(), {image.data(), shm::DType::kF32}, kPanels, kH, kW, params);
  EXPECT_GT(expected.n_found, 30u) << "the cap is exercised";
  EXPECT_EQ(sut.n_found, expected.n_found);
  EXPECT_EQ(sut.hit, expected.hit);
  ASSERT_EQ(sut.peaks.size(), expected.peaks.size());
  for (size_t i = 0; i < sut.peaks.size(); ++i) {
    EXPECT_EQ(0, std::memcmp(&sut.peaks[i], &expected.peaks[i], sizeof(shm::PeakRecord))) << i;
  }
}

}  // namespace
}  // namespace peaknet::peaks
