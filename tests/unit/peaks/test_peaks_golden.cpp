// Every golden/peaks case (from index.json) through the CPU peak finder: mask, label image, per-image
// components and intensities, and the P=2 / P=1 event lists with cap and hit rule.
#include <gtest/gtest.h>

#include <cstring>

#include "golden_case.hpp"
#include "peaks/component_labeller.hpp"
#include "peaks/peak_finder.hpp"

namespace peaknet::peaks {
namespace {

using testing::GoldenCase;

class GoldenPeaksCpu : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { golden_ = testing::load_golden_case(GetParam()); }
  ImageView image_of(size_t first_image) const {
    if (!golden_.has_image) return {};
    return {golden_.image.data() + first_image * golden_.plane(), shm::DType::kF32};
  }
  GoldenCase golden_;
};

TEST(GoldenPeaksIndex, ListsAllFifteenCases) { EXPECT_EQ(testing::golden_case_names().size(), 15u); }

TEST_P(GoldenPeaksCpu, MaskFromLogitsEqualsExpectedMask) {
  if (!golden_.has_logits) GTEST_SKIP() << "mask case";
  std::vector<uint8_t> mask(golden_.n * golden_.plane(), 7);
  mask_from_logits(golden_.logits.data(), golden_.n, golden_.h, golden_.w, mask.data());
  for (size_t i = 0; i < mask.size(); ++i) {
    ASSERT_EQ(mask[i], golden_.mask[i]) << "pixel " << i % golden_.plane() << " of image " << i / golden_.plane();
  }
}

TEST_P(GoldenPeaksCpu, LabelImageEqualsExpectedLabels) {
  ComponentLabeller sut;
  std::vector<int32_t> labels(golden_.plane());
  for (uint32_t i = 0; i < golden_.n; ++i) {
    const uint32_t n = sut.label(golden_.mask.data() + i * golden_.plane(), golden_.h, golden_.w);
    EXPECT_EQ(n, golden_.spec["images"][i]["num_components"].get<uint32_t>()) << "image " << i;
    sut.write_label_image(labels.data());
    EXPECT_EQ(0,
              std::memcmp(labels.data(), golden_.labels.data() + i * golden_.plane(), labels.size() * sizeof(int32_t)))
        << "label image " << i;
  }
}

TEST_P(GoldenPeaksCpu, PerImageCentroidsCountsAndIntensities) {
  const PeakParams unlimited{UINT32_MAX, 0};
  for (uint32_t i = 0; i < golden_.n; ++i) {
    const auto& expected = golden_.spec["images"][i];
    const EventPeaks got =
        find_peaks(golden_.mask.data() + i * golden_.plane(), image_of(i), 1, golden_.h, golden_.w, unlimited);
    const std::string where = golden_.name + " image " + std::to_string(i);
    std::vector<double> intensity;
    if (golden_.has_image) intensity = expected["total_intensity"].get<std::vector<double>>();
    testing::expect_peaks_equal(got.peaks, {}, expected["centroids_yx"].get<std::vector<std::array<double, 2>>>(),
                                intensity, expected["pixel_counts"].get<std::vector<uint32_t>>(), {}, where);
    if (!golden_.has_image) continue;
    const auto f32 = expected["total_intensity_f32"].get<std::vector<float>>();
    for (size_t k = 0; k < got.peaks.size(); ++k) {
      EXPECT_EQ(static_cast<float>(got.peaks[k].intensity_sum), f32[k]) << where << " peak " << k;
    }
  }
}

TEST_P(GoldenPeaksCpu, EventsOfTwoPanelsMatchWithCapAndHitRule) {
  const auto& spec = golden_.spec["events_P2"];
  const PeakParams params{spec["max_num_peak"].get<uint32_t>(), spec["min_num_peak"].get<uint32_t>()};
  for (const auto& event : spec["events"]) {
    const uint32_t first = event["image_indices"][0];
    const EventPeaks got =
        find_peaks(golden_.mask.data() + first * golden_.plane(), image_of(first), 2, golden_.h, golden_.w, params);
    testing::expect_event_matches(got, event, {}, golden_.name + " P2 event " + event["event"].dump());
  }
}

TEST_P(GoldenPeaksCpu, EventsOfOnePanelMatchFromLogits) {
  const auto& spec = golden_.spec["events_P1"];
  const PeakParams params{spec["max_num_peak"].get<uint32_t>(), spec["min_num_peak"].get<uint32_t>()};
  for (const auto& event : spec["events"]) {
    const uint32_t i = event["image_indices"][0];
    const EventPeaks got = golden_.has_logits ? find_peaks_from_logits(golden_.logits.data() + 2 * i * golden_.plane(),
                                                                       image_of(i), 1, golden_.h, golden_.w, params)
                                              : find_peaks(golden_.mask.data() + i * golden_.plane(), image_of(i), 1,
                                                           golden_.h, golden_.w, params);
    testing::expect_event_matches(got, event, {}, golden_.name + " P1 event " + event["event"].dump());
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenPeaksCpu, ::testing::ValuesIn(testing::golden_case_names()),
                         [](const auto& info) { return info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GoldenPeaksCpu);

}  // namespace
}  // namespace peaknet::peaks
