// make_cxi_row: pad offsets removed before the geometry, float32 rounding once, photon energy,
// peaks in the padding skipped, frames cropped/placed/converted.
#include <cmath>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "writerd/cxi_row.hpp"

namespace peaknet::writerd {
namespace {

shm::ResultHeader header(uint32_t panels, uint32_t h, uint32_t w, uint32_t top, uint32_t left) {
  shm::ResultHeader r{};
  r.event_id = 42;
  r.channels = panels;
  r.orig_height = h;
  r.orig_width = w;
  r.height = h + top + 2;
  r.width = w + left + 3;
  r.pad_top = top;
  r.pad_left = left;
  r.photon_wavelength_a = 1.3;
  return r;
}

shm::PeakRecord peak(uint32_t panel, double y, double x, double sum) {
  shm::PeakRecord p{};
  p.panel = panel;
  p.y = y;
  p.x = x;
  p.intensity_sum = sum;
  return p;
}

TEST(WriterdCxiRow, RemovesPadOffsetsThenAppliesGeometry) {
  const Geometry g = Geometry::stacked(2, 4, 5);
  shm::ResultHeader h = header(2, 4, 5, 1, 2);
  const std::vector<shm::PeakRecord> peaks = {peak(0, 1.0, 2.0, 10.0), peak(1, 1.5, 2.25, 0.1),
                                              peak(1, 0.0, 1.0, 1.0) /* in the padding */};
  h.n_peaks = 3;
  h.n_found = 3;
  CxiRow sut;
  ASSERT_EQ(make_cxi_row(h, peaks.data(), nullptr, 0, g, 2048, false, sut), "");
  ASSERT_EQ(sut.n_peaks(), 2);
  EXPECT_EQ(sut.peaks_outside, 1u);
  EXPECT_EQ(sut.ss[0], 0.0f);
  EXPECT_EQ(sut.fs[0], 0.0f);
  EXPECT_EQ(sut.ss[1], float(0.5 + 4.0));
  EXPECT_EQ(sut.fs[1], 0.25f);
  EXPECT_EQ(sut.seg[1], 1.0f);
  EXPECT_EQ(sut.intensity[1], float(0.1));
  EXPECT_EQ(sut.photon_energy_ev, float(12398.4198 / 1.3));
  EXPECT_EQ(sut.event_id, 42u);
}

TEST(WriterdCxiRow, PhotonEnergyIsNaNForNonPositiveWavelength) {
  EXPECT_TRUE(std::isnan(photon_energy_ev(0.0)));
  EXPECT_TRUE(std::isnan(photon_energy_ev(NAN)));
  EXPECT_EQ(photon_energy_ev(1.771), 7000.8017578125f);  // golden cxi_expected.json
}

TEST(WriterdCxiRow, CropsAStoredFramePlacesPanelsAndConvertsDtype) {
  const Geometry g = Geometry::stacked(2, 2, 3);
  shm::ResultHeader h = header(2, 2, 3, 1, 1);
  h.frame_dtype = shm::DType::kU16;
  std::vector<uint16_t> stored(size_t(2) * h.height * h.width, 999);
  for (uint32_t p = 0; p < 2; ++p)
    for (uint32_t y = 0; y < 2; ++y)
      for (uint32_t x = 0; x < 3; ++x)
        stored[(p * h.height + y + 1) * h.width + x + 1] = uint16_t(p * 100 + y * 10 + x);
  CxiRow sut;
  ASSERT_EQ(
      make_cxi_row(h, nullptr, reinterpret_cast<const uint8_t*>(stored.data()), stored.size() * 2, g, 2048, true, sut),
      "");
  ASSERT_EQ(sut.frame.size(), 12u);
  const std::vector<float> expected = {0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112};
  EXPECT_EQ(sut.frame, expected);
}

TEST(WriterdCxiRow, RefusesMismatchedShapesAndFrameSizes) {
  const Geometry g = Geometry::stacked(2, 4, 5);
  CxiRow row;
  shm::ResultHeader h = header(3, 4, 5, 0, 0);
  EXPECT_NE(make_cxi_row(h, nullptr, nullptr, 0, g, 2048, false, row), "");
  h = header(2, 4, 5, 0, 0);
  h.frame_dtype = shm::DType::kF32;
  std::vector<uint8_t> frame(7);
  EXPECT_NE(make_cxi_row(h, nullptr, frame.data(), frame.size(), g, 2048, true, row).find("frame has 7 bytes"),
            std::string::npos);
  h.pad_top = 100;
  EXPECT_NE(check_cxi_inputs(h, 0, g).find("pad offsets"), std::string::npos);
}

TEST(WriterdCxiRow, MissingFrameIsNaNAndFlagged) {
  const Geometry g = Geometry::stacked(1, 2, 2);
  CxiRow sut;
  ASSERT_EQ(make_cxi_row(header(1, 2, 2, 0, 0), nullptr, nullptr, 0, g, 2048, true, sut), "");
  EXPECT_TRUE(sut.frame_missing);
  ASSERT_EQ(sut.frame.size(), 4u);
  EXPECT_TRUE(std::isnan(sut.frame[0]));
}

}  // namespace
}  // namespace peaknet::writerd
