// Golden: peaks computed by the peaks library from the golden logits go through a real Q2 ring into
// WriterService; the CXI file must equal cxi_p1.cxi / cxi_p2.cxi in every golden dataset (values,
// shapes, dtypes read through HDF5). Then a CrystFEL-style read of our file (nPeaks, first nPeaks
// entries, +0.5, panel lookup in the .geom) must give back the golden peak list.
#include <cstring>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "npy_reader.hpp"
#include "peaks/peak_finder.hpp"
#include "writerd/geometry.hpp"
#include "writerd/writer_service.hpp"
#include "writerd_test_support.hpp"

namespace peaknet::writerd {
namespace {

using peaks::testing::read_npy;
using testing::files_with_suffix;
using testing::read_dataset;
using testing::TestSandbox;

const std::string kGolden = std::string(PEAKNET_GOLDEN_DIR) + "/peaks/";
constexpr uint32_t kH = 96, kW = 128;

/// Runs logits_realistic with P panels per event through Q2 and WriterService; returns the file.
std::string write_golden_case(TestSandbox& box, uint32_t panels, const std::string& geom) {
  auto j = box.config_json();
  j["q1"] = {{"slot_bytes", 131072}};  // golden frames are 2 x 96 x 128 float32: q2.slot_bytes is derived
  j["q2"] = {{"slots", 16}};
  j["writerd"]["geometry"] = kGolden + geom;
  j["writerd"]["write_frames"] = true;
  j["writerd"]["events_per_file"] = 100;
  const auto cfg = config::parse_suite_config(j);
  const auto logits = read_npy(kGolden + "logits_realistic.logits.npy").as<float>();
  const auto image = read_npy(kGolden + "logits_realistic.image.npy").as<float>();
  const auto wavelength =
      read_npy(kGolden + "logits_realistic.wavelength_P" + std::to_string(panels) + ".npy").as<double>();
  shm::Ring q2 = testing::producer_ring(cfg);
  const size_t frame_floats = size_t(panels) * kH * kW;
  for (uint32_t e = 0; e < wavelength.size(); ++e) {
    peaks::PeakParams params;  // 2048, 10: the golden's parameters
    const peaks::EventPeaks found =
        peaks::find_peaks_from_logits(logits.data() + size_t(e) * 2 * frame_floats,
                                      peaks::ImageView{image.data() + e * frame_floats}, panels, kH, kW, params);
    auto slot = q2.acquire(std::chrono::milliseconds(5000));
    EXPECT_TRUE(slot.has_value());
    if (!slot) break;
    shm::ResultHeader h{};
    h.event_id = 1000 + e;
    h.channels = panels;
    h.height = h.orig_height = kH;
    h.width = h.orig_width = kW;
    h.n_peaks = uint32_t(found.peaks.size());
    h.n_found = found.n_found;
    h.photon_wavelength_a = wavelength[e];
    h.frame_dtype = shm::DType::kF32;
    h.frame_offset = (shm::kPeaksOffset + found.peaks.size() * sizeof(shm::PeakRecord) + 63) / 64 * 64;
    h.frame_bytes = frame_floats * 4;
    std::memcpy(slot->data(), &h, sizeof h);
    std::memcpy(slot->data() + shm::kPeaksOffset, found.peaks.data(), found.peaks.size() * sizeof(shm::PeakRecord));
    std::memcpy(slot->data() + h.frame_offset, image.data() + e * frame_floats, h.frame_bytes);
    q2.publish(std::move(*slot));
  }
  q2.finish_producing();
  WriterService sut(cfg);
  EXPECT_EQ(sut.run(), 0);
  const auto files = files_with_suffix(box.dir() / "out", ".cxi");
  EXPECT_EQ(files.size(), 1u);
  return files.empty() ? std::string() : files[0];
}

template <typename T>
void expect_same_dataset(const std::string& ours, const std::string& golden, const std::string& name, hid_t type) {
  std::vector<hsize_t> dims_ours, dims_golden;
  const auto a = read_dataset<T>(ours, name, type, &dims_ours);
  const auto b = read_dataset<T>(golden, name, type, &dims_golden);
  EXPECT_EQ(dims_ours, dims_golden) << name;
  ASSERT_EQ(a.size(), b.size()) << name;
  size_t mismatches = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!(a[i] == b[i]) && mismatches++ < 5) ADD_FAILURE() << name << "[" << i << "]: " << a[i] << " != " << b[i];
  }
  EXPECT_EQ(mismatches, 0u) << name;
}

void expect_equal_to_golden(const std::string& ours, const std::string& golden) {
  expect_same_dataset<int32_t>(ours, golden, "/entry_1/result_1/nPeaks", H5T_NATIVE_INT32);
  for (const char* name :
       {"/entry_1/result_1/peakXPosRaw", "/entry_1/result_1/peakYPosRaw", "/entry_1/result_1/peakSegPosRaw",
        "/entry_1/result_1/peakTotalIntensity", "/LCLS/photon_energy_eV", "/entry_1/data_1/data"}) {
    expect_same_dataset<float>(ours, golden, name, H5T_NATIVE_FLOAT);
  }
}

TEST(WriterdGolden, OnePanelEqualsCxiP1) {
  TestSandbox box;
  const std::string ours = write_golden_case(box, 1, "one_panel_96x128.geom");
  ASSERT_FALSE(ours.empty());
  expect_equal_to_golden(ours, kGolden + "cxi_p1.cxi");
  // Rows are the hit events in order: ids 1000 + cxi_expected rows' events.
  EXPECT_EQ(read_dataset<uint64_t>(ours, "/LCLS/event_id", H5T_NATIVE_UINT64),
            (std::vector<uint64_t>{1000, 1001, 1006, 1007, 1009}));
}

TEST(WriterdGolden, TwoPanelsEqualCxiP2) {
  TestSandbox box;
  const std::string ours = write_golden_case(box, 2, "two_panel_96x128.geom");
  ASSERT_FALSE(ours.empty());
  expect_equal_to_golden(ours, kGolden + "cxi_p2.cxi");
}

TEST(WriterdGolden, CrystfelStyleReadGivesBackTheGoldenPeaks) {
  TestSandbox box;
  const std::string ours = write_golden_case(box, 2, "two_panel_96x128.geom");
  ASSERT_FALSE(ours.empty());
  const Geometry geom = Geometry::from_geom_file(kGolden + "two_panel_96x128.geom");
  std::ifstream expected_in(kGolden + "cxi_expected.json"), case_in(kGolden + "logits_realistic.json");
  const auto expected = nlohmann::json::parse(expected_in)["files"]["cxi_p2"];
  const auto events = nlohmann::json::parse(case_in)["events_P2"]["events"];
  const auto n_peaks = read_dataset<int32_t>(ours, "/entry_1/result_1/nPeaks", H5T_NATIVE_INT32);
  const auto xs = read_dataset<float>(ours, "/entry_1/result_1/peakXPosRaw", H5T_NATIVE_FLOAT);
  const auto ys = read_dataset<float>(ours, "/entry_1/result_1/peakYPosRaw", H5T_NATIVE_FLOAT);
  ASSERT_EQ(n_peaks.size(), expected["rows"].size());
  size_t checked = 0;
  for (const auto& row : expected["rows"]) {
    const size_t r = row["row"];
    const auto& golden_peaks = events[size_t(row["event"])]["peaks"];
    ASSERT_EQ(n_peaks[r], int(row["nPeaks"]));
    ASSERT_LE(n_peaks[r], 2048);  // CrystFEL rejects an event whose nPeaks exceeds the row width
    for (int i = 0; i < n_peaks[r]; ++i) {
      const double fs = xs[r * 2048 + i] + 0.5, ss = ys[r * 2048 + i] + 0.5;  // half-pixel shift
      int panel = -1;
      for (size_t p = 0; p < geom.panels().size(); ++p) {
        const PanelRect& pr = geom.panels()[p];
        if (fs >= pr.min_fs && fs < pr.max_fs + 1 && ss >= pr.min_ss && ss < pr.max_ss + 1) panel = int(p);
      }
      const auto& g = golden_peaks[size_t(i)];  // [panel, y, x]
      ASSERT_EQ(panel, int(g[0])) << "row " << r << " peak " << i;
      // Positions are stored as float32 (one rounding): within a float32 ulp of a 128-pixel panel.
      EXPECT_NEAR(fs - geom.panels()[panel].min_fs, double(g[2]) + 0.5, 2e-5);
      EXPECT_NEAR(ss - geom.panels()[panel].min_ss, double(g[1]) + 0.5, 2e-5);
      ++checked;
    }
  }
  EXPECT_GT(checked, 2000u);
}

}  // namespace
}  // namespace peaknet::writerd
