#pragma once
// Loads one golden/peaks case (README.md there) and checks EventPeaks against its expectations.
// Shared by the CPU and the GPU golden tests so both are held to the same files and rules.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "npy_reader.hpp"
#include "peaks/peak_types.hpp"

namespace peaknet::peaks::testing {

inline std::string golden_peaks_dir() { return std::string(PEAKNET_GOLDEN_DIR) + "/peaks"; }

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  return nlohmann::json::parse(in);
}

/// Case names from index.json (empty when the golden data is missing: the count test then fails).
inline std::vector<std::string> golden_case_names() {
  std::vector<std::string> names;
  try {
    const nlohmann::json index = read_json(golden_peaks_dir() + "/index.json");
    for (const auto& c : index.at("cases")) {
      names.push_back(c.at("case").get<std::string>());
    }
  } catch (const std::exception& e) {
    std::cerr << "golden/peaks index: " << e.what() << "\n";  // the count test then fails
  }
  return names;
}

struct GoldenCase {
  std::string name;
  nlohmann::json spec;
  uint32_t n = 0, h = 0, w = 0;
  bool has_logits = false, has_image = false;
  std::vector<float> logits;    ///< (n, 2, h, w) for logits cases
  std::vector<uint8_t> mask;    ///< (n, h, w): the input mask, or the expected mask of logits
  std::vector<int32_t> labels;  ///< (n, h, w)
  std::vector<float> image;     ///< (n, h, w) when has_image
  size_t plane() const { return static_cast<size_t>(h) * w; }
};

inline GoldenCase load_golden_case(const std::string& name) {
  const std::string dir = golden_peaks_dir() + "/";
  GoldenCase c;
  c.name = name;
  c.spec = read_json(dir + name + ".json");
  const auto shape = c.spec.at("shape_NHW");
  c.n = shape[0];
  c.h = shape[1];
  c.w = shape[2];
  const auto& files = c.spec.at("files");
  c.has_logits = files.contains("logits");
  c.has_image = files.contains("image");
  if (c.has_logits) {
    c.logits = read_npy(dir + files.at("logits").get<std::string>()).as<float>();
    c.mask = read_npy(dir + files.at("expected_mask").get<std::string>()).as<uint8_t>();
  } else {
    c.mask = read_npy(dir + files.at("mask").get<std::string>()).as<uint8_t>();
  }
  c.labels = read_npy(dir + files.at("labels").get<std::string>()).as<int32_t>();
  if (c.has_image) c.image = read_npy(dir + files.at("image").get<std::string>()).as<float>();
  return c;
}

struct Tolerance {
  double centroid_abs = 1e-9;
  double intensity_rel = 1e-9;
  bool intensity_f32_exact = true;  ///< float(sum) must equal total_intensity_f32 when the image is given
};

/// Compares one found peak list with expected centroids/counts/intensities (label order).
/// `expected_panels` may be empty (single panel 0).
inline void expect_peaks_equal(const std::vector<shm::PeakRecord>& got, const std::vector<uint32_t>& expected_panels,
                               const std::vector<std::array<double, 2>>& expected_yx,
                               const std::vector<double>& expected_intensity,
                               const std::vector<uint32_t>& expected_npix, const Tolerance& tol,
                               const std::string& where) {
  ASSERT_EQ(got.size(), expected_yx.size()) << where;
  for (size_t i = 0; i < got.size(); ++i) {
    const std::string at = where + " peak " + std::to_string(i);
    if (!expected_panels.empty()) {
      EXPECT_EQ(got[i].panel, expected_panels[i]) << at;
    }
    EXPECT_NEAR(got[i].y, expected_yx[i][0], tol.centroid_abs) << at;
    EXPECT_NEAR(got[i].x, expected_yx[i][1], tol.centroid_abs) << at;
    if (!expected_npix.empty()) {
      EXPECT_EQ(got[i].npix, expected_npix[i]) << at;
    }
    if (!expected_intensity.empty()) {
      const double want = expected_intensity[i];
      EXPECT_NEAR(got[i].intensity_sum, want, tol.intensity_rel * std::max(1.0, std::abs(want))) << at;
    }
  }
}

/// Checks an event result against an entry of events_P2 (with its peak list) or events_P1.
inline void expect_event_matches(const EventPeaks& got, const nlohmann::json& expected, const Tolerance& tol,
                                 const std::string& where) {
  EXPECT_EQ(got.n_found, expected.at("num_peaks_found").get<uint32_t>()) << where;
  EXPECT_EQ(got.peaks.size(), expected.at("num_peaks_kept").get<size_t>()) << where;
  EXPECT_EQ(got.hit, expected.at("is_hit").get<bool>()) << where;
  if (!expected.contains("peaks")) return;
  std::vector<uint32_t> panels;
  std::vector<std::array<double, 2>> yx;
  for (const auto& p : expected.at("peaks")) {
    panels.push_back(p[0].get<uint32_t>());
    yx.push_back({p[1].get<double>(), p[2].get<double>()});
  }
  std::vector<double> intensity;
  if (expected.contains("total_intensity")) intensity = expected.at("total_intensity").get<std::vector<double>>();
  expect_peaks_equal(got.peaks, panels, yx, intensity, {}, tol, where);
}

}  // namespace peaknet::peaks::testing
