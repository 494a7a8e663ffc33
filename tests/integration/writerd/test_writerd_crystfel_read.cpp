// Issue 18 check: the output of configs/default.json, read the way CrystFEL reads it, holds exactly
// the hits of Q2. The Q2 records are what inferd publishes under the default config (a hit carries
// its frame, a non-hit none); the reader below uses only the HDF5 C API and the .geom writerd wrote
// beside the files (its own small parser, not writerd's): event count from the first dimension of
// /entry_1/data_1/data (what `list_events` enumerates), peaks from /entry_1/result_1/* (what
// `indexamajig --peaks=cxi` reads: nPeaks then the first nPeaks entries, +0.5 px, panel found by
// min/max fs/ss), photon energy from the dataset the .geom names, frames placed per the .geom.
#include <hdf5.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "common/config/suite_config.hpp"
#include "writerd/writer_service.hpp"
#include "writerd_test_support.hpp"

namespace peaknet::writerd {
namespace {

using testing::files_with_suffix;
using testing::read_dataset;
using testing::TestSandbox;

constexpr uint32_t kPanels = 2, kH = 40, kW = 56;

struct Published {
  shm::ResultHeader header;
  std::vector<shm::PeakRecord> peaks;
  std::vector<float> frame;  // C x H x W, empty for a non-hit
};

// A .geom read like CrystFEL: "key = value" lines, "panel/key" panel properties, ';' comments.
struct GeomFile {
  std::map<std::string, std::string> global;
  std::vector<std::string> panel_order;
  std::map<std::string, std::map<std::string, std::string>> panels;
  int64_t get(const std::string& panel, const std::string& key) const { return std::stoll(panels.at(panel).at(key)); }
};

GeomFile read_geom(const std::string& path) {
  GeomFile g;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "no geometry file " << path;
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find(';'));
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t"));
      s.erase(s.find_last_not_of(" \t") + 1);
      return s;
    };
    const std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    const auto slash = key.find('/');
    if (slash == std::string::npos) {
      g.global[key] = value;
    } else if (key.rfind("group_", 0) != 0) {
      const std::string panel = key.substr(0, slash);
      if (!g.panels.count(panel)) g.panel_order.push_back(panel);
      g.panels[panel][key.substr(slash + 1)] = value;
    }
  }
  return g;
}

// Publishes what inferd publishes under the default config: hits (n_found >= 10) with their frame.
std::vector<Published> publish_like_inferd(shm::Ring& q2, uint32_t events) {
  std::vector<Published> out;
  for (uint32_t e = 0; e < events; ++e) {
    Published p{};
    shm::ResultHeader& h = p.header;
    h.event_id = (uint64_t(3) << 40) | e;
    h.channels = kPanels;
    h.height = h.orig_height = kH;
    h.width = h.orig_width = kW;
    h.photon_wavelength_a = 1.0 + 0.01 * e;
    h.timestamp = 100.0 + e;
    const bool hit = e % 3 != 1;  // two thirds hits
    h.n_found = hit ? 12 + e % 5 : 4;
    h.n_peaks = h.n_found;
    for (uint32_t i = 0; i < h.n_peaks; ++i) {
      shm::PeakRecord r{};
      r.panel = i % kPanels;
      r.y = 1.25 + (i * 7 + e) % (kH - 2);
      r.x = 2.75 + (i * 11 + e) % (kW - 3);
      r.intensity_sum = 1000.0 + i + e;
      r.npix = 3;
      p.peaks.push_back(r);
    }
    auto slot = q2.acquire(std::chrono::milliseconds(5000));
    EXPECT_TRUE(slot.has_value()) << "Q2 full";
    if (!slot) break;
    std::memset(slot->data(), 0, shm::kPeaksOffset);
    const uint64_t peak_bytes = p.peaks.size() * sizeof(shm::PeakRecord);
    if (hit) {
      p.frame.resize(size_t(kPanels) * kH * kW);
      for (size_t i = 0; i < p.frame.size(); ++i) p.frame[i] = float(e) * 1e4f + float(i) * 0.5f;
      h.frame_dtype = shm::DType::kF32;
      h.frame_offset = (shm::kPeaksOffset + peak_bytes + 63) / 64 * 64;
      h.frame_bytes = p.frame.size() * 4;
      std::memcpy(slot->data() + h.frame_offset, p.frame.data(), h.frame_bytes);
    }
    std::memcpy(slot->data(), &h, sizeof h);
    std::memcpy(slot->data() + shm::kPeaksOffset, p.peaks.data(), peak_bytes);
    q2.publish(std::move(*slot));
    out.push_back(std::move(p));
  }
  q2.finish_producing();
  return out;
}

TEST(WriterdCrystfelRead, DefaultConfigOutputHoldsEveryHitWithFramePeaksEnergyAndGeometry) {
  TestSandbox box;
  const auto cfg =
      config::load_suite_config(PEAKNET_SOURCE_DIR "/configs/default.json",
                                {"run.name=" + box.run_name(), "writerd.output_dir=" + (box.dir() / "out").string(),
                                 "writerd.fsync=none", "run.log_level=warn"});
  ASSERT_TRUE(cfg.writerd.write_frames) << "the default config must write frames of hits";
  shm::Ring q2 = testing::producer_ring(cfg);
  const std::vector<Published> published = publish_like_inferd(q2, 45);
  WriterService sut(cfg);
  ASSERT_EQ(sut.run(), 0);

  const auto files = files_with_suffix(box.dir() / "out", ".cxi");
  ASSERT_EQ(files.size(), 1u + 30 / cfg.writerd.events_per_file);  // 30 hits, 32 per file: one file
  const GeomFile geom = read_geom((box.dir() / "out" / (box.run_name() + ".geom")).string());
  ASSERT_EQ(geom.panel_order.size(), kPanels);
  ASSERT_EQ(geom.global.at("data"), "/entry_1/data_1/data");
  ASSERT_EQ(geom.global.at("peak_list"), "/entry_1/result_1");
  ASSERT_EQ(geom.global.at("peak_list_type"), "cxi");
  const std::string energy_path = geom.global.at("photon_energy").substr(0, geom.global.at("photon_energy").find(' '));

  std::vector<const Published*> hits;
  for (const auto& p : published) {
    if (p.header.n_found >= 10) hits.push_back(&p);
  }
  size_t row_of_run = 0, peaks_checked = 0;
  for (const auto& file : files) {
    // list_events: one event per entry of the first dimension of the data block.
    std::vector<hsize_t> dims;
    const auto data = read_dataset<float>(file, "/entry_1/data_1/data", H5T_NATIVE_FLOAT, &dims);
    ASSERT_EQ(dims.size(), 3u);
    const auto n_peaks = read_dataset<int32_t>(file, "/entry_1/result_1/nPeaks", H5T_NATIVE_INT32);
    std::vector<hsize_t> peak_dims;
    const auto xs = read_dataset<float>(file, "/entry_1/result_1/peakXPosRaw", H5T_NATIVE_FLOAT, &peak_dims);
    const auto ys = read_dataset<float>(file, "/entry_1/result_1/peakYPosRaw", H5T_NATIVE_FLOAT);
    const auto in = read_dataset<float>(file, "/entry_1/result_1/peakTotalIntensity", H5T_NATIVE_FLOAT);
    const auto energy = read_dataset<float>(file, energy_path, H5T_NATIVE_FLOAT);
    const auto ids = read_dataset<uint64_t>(file, "/LCLS/event_id", H5T_NATIVE_UINT64);
    ASSERT_EQ(n_peaks.size(), dims[0]);
    ASSERT_EQ(energy.size(), dims[0]);
    const size_t width = peak_dims[1];
    for (size_t r = 0; r < dims[0]; ++r, ++row_of_run) {
      ASSERT_LT(row_of_run, hits.size()) << "more events in the files than hits in Q2";
      const Published& want = *hits[row_of_run];
      EXPECT_EQ(ids[r], want.header.event_id);
      EXPECT_FLOAT_EQ(energy[r], float(12398.4198 / want.header.photon_wavelength_a));
      ASSERT_EQ(n_peaks[r], int32_t(want.peaks.size()));
      for (int i = 0; i < n_peaks[r]; ++i) {
        const double fs = xs[r * width + i] + 0.5, ss = ys[r * width + i] + 0.5;
        std::string panel;
        for (const auto& name : geom.panel_order) {
          if (fs >= geom.get(name, "min_fs") && fs < geom.get(name, "max_fs") + 1 && ss >= geom.get(name, "min_ss") &&
              ss < geom.get(name, "max_ss") + 1) {
            panel = name;
          }
        }
        const shm::PeakRecord& pk = want.peaks[size_t(i)];
        ASSERT_EQ(panel, geom.panel_order[pk.panel]) << "row " << r << " peak " << i;
        EXPECT_NEAR(fs - 0.5 - double(geom.get(panel, "min_fs")), pk.x, 1e-5);
        EXPECT_NEAR(ss - 0.5 - double(geom.get(panel, "min_ss")), pk.y, 1e-5);
        EXPECT_EQ(in[r * width + i], float(pk.intensity_sum));
        ++peaks_checked;
      }
      // The frame: each panel's pixels where the .geom puts them, bit-identical to the Q2 frame.
      size_t mismatches = 0;
      for (uint32_t p = 0; p < kPanels; ++p) {
        const std::string& name = geom.panel_order[p];
        ASSERT_EQ(geom.get(name, "max_ss") - geom.get(name, "min_ss") + 1, int64_t(kH));
        ASSERT_EQ(geom.get(name, "max_fs") - geom.get(name, "min_fs") + 1, int64_t(kW));
        for (uint32_t y = 0; y < kH; ++y) {
          for (uint32_t x = 0; x < kW; ++x) {
            const size_t at =
                (r * dims[1] + size_t(geom.get(name, "min_ss") + y)) * dims[2] + size_t(geom.get(name, "min_fs") + x);
            mismatches += data[at] != want.frame[(size_t(p) * kH + y) * kW + x];
          }
        }
      }
      EXPECT_EQ(mismatches, 0u) << "frame of row " << r;
    }
  }
  EXPECT_EQ(row_of_run, hits.size()) << "every hit is in the files, non-hits are not";
  EXPECT_GT(peaks_checked, 300u);
  const auto stats = sut.stats();
  EXPECT_EQ(stats.value("frames_missing", 1u), 0u) << stats.dump();
  EXPECT_EQ(stats.value("events_filtered", 0u), published.size() - hits.size());
}

}  // namespace
}  // namespace peaknet::writerd
