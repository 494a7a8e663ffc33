// End to end, every golden wire vector that ingestd accepts (npz stored/deflate, HDF5 layouts and
// filters, FastBinary, Simplon CBOR series): peaknet-pusher → ingestd → Q1 → inferd (CPU, golden
// tiny PeakNet) → Q2 → writerd (keep_all_events) → CXI. Each row of the CXI files must equal what
// the decoder + model + peak-finder libraries give on the same messages, and the suite ledger must
// balance with nothing in flight.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
#include <map>
#include <set>

#include "e2e_reference.hpp"
#include "e2e_suite.hpp"

namespace {

using namespace peaknet::e2e::testing;
namespace fs = std::filesystem;

const fs::path kWire = fs::path(PEAKNET_GOLDEN_DIR) / "wire";

/// Vectors of the manifest (in its order, which keeps every Simplon series start → images → end)
/// whose format is in `formats`, that are not `reject` vectors and whose name `keep` accepts.
std::vector<fs::path> wire_vectors(const std::set<std::string>& formats,
                                   const std::function<bool(const std::string&)>& keep) {
  std::ifstream in(kWire / "MANIFEST.json");
  const auto manifest = nlohmann::json::parse(in);
  std::vector<fs::path> files;
  for (const auto& v : manifest.at("vectors")) {
    if (formats.count(v.at("format").get<std::string>()) && v.at("expected") != "reject" &&
        keep(v.at("file").get<std::string>())) {
      files.push_back(kWire / v.at("file").get<std::string>());
    }
  }
  return files;
}

std::unique_ptr<peaknet::model::InferenceModel> golden_model() {
  const auto j = tiny_model_json();
  peaknet::model::ModelSpec spec{j.at("config"), j.at("weights").get<std::string>()};
  auto model = peaknet::model::load_model(spec);
  model->to(torch::kCPU, peaknet::model::Precision::kFp32, false);
  return model;
}

bool same_float(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

bool has(const std::string& name, const char* part) { return name.find(part) != std::string::npos; }

bool same_peaks(const CxiRow& g, const CxiRow& w) {
  if (g.n_found != w.n_found || g.n_peaks != w.n_peaks) return false;
  for (int32_t k = 0; k < w.n_peaks; ++k) {
    if (std::abs(g.fs[k] - w.fs[k]) > 1e-4 || std::abs(g.ss[k] - w.ss[k]) > 1e-4 || g.seg[k] != w.seg[k] ||
        std::abs(g.intensity[k] - w.intensity[k]) > 1e-5 * std::abs(w.intensity[k]) + 1e-6) {
      return false;
    }
  }
  return true;
}

/// One suite instance per frame shape: writerd's stacked-panel layout is fixed by the first event
/// (other shapes are dropped as bad_shape, as they would not fit the CXI data set).
void run_group(const std::string& test, const std::vector<fs::path>& files) {
  ASSERT_FALSE(files.empty());
  const peaknet::peaks::PeakParams params{Suite::kMaxNumPeak, 3};
  auto model = golden_model();
  size_t rejected = 0;
  const auto want = expected_rows(files, params, *model, rejected);
  ASSERT_FALSE(want.empty()) << "the decoder gives no event: nothing to compare";

  Suite suite(test);
  ASSERT_NO_FATAL_FAILURE(suite.start());
  std::vector<std::string> args{"-c", std::to_string(files.size())};
  for (const auto& f : files) {
    args.push_back("-f");
    args.push_back(f.string());
  }
  ASSERT_EQ(suite.push(args), 0) << suite.logs();
  suite.drain_after(files.size());

  std::map<uint64_t, CxiRow> got;
  for (const auto& file : suite.cxi_files()) {
    for (auto& row : read_cxi(file, Suite::kMaxNumPeak)) {
      EXPECT_TRUE(got.emplace(row.event_id, row).second) << "event " << row.event_id << " written twice";
    }
  }
  ASSERT_EQ(got.size(), want.size()) << "CXI rows vs decoded events" << suite.logs();
  size_t total_peaks = 0, tie_pixels = 0, pixels = 0, resolved_ties = 0;
  for (const auto& expected : want) {
    SCOPED_TRACE("event " + std::to_string(expected.event_id) + " (" + std::to_string(expected.ties) + " tie pixels)");
    ASSERT_TRUE(got.count(expected.event_id));
    const CxiRow& g = got.at(expected.event_id);
    tie_pixels += expected.ties;
    pixels += expected.pixels;
    // Equal to the reference, or (tie pixels only) to one resolution of its ties: inferd's batch may
    // put a logit within kLogitTie of the threshold on the other side.
    const auto match = std::find_if(expected.variants.begin(), expected.variants.end(),
                                    [&](const CxiRow& v) { return same_peaks(g, v); });
    const CxiRow& w = match == expected.variants.end() ? expected.variants.front() : *match;
    resolved_ties += match != expected.variants.end() && match != expected.variants.begin();
    EXPECT_EQ(g.n_found, w.n_found);
    ASSERT_EQ(g.n_peaks, w.n_peaks);
    for (int32_t k = 0; k < w.n_peaks; ++k) {
      EXPECT_NEAR(g.fs[k], w.fs[k], 1e-4) << "peak " << k;
      EXPECT_NEAR(g.ss[k], w.ss[k], 1e-4) << "peak " << k;
      EXPECT_EQ(g.seg[k], w.seg[k]) << "peak " << k;
      EXPECT_NEAR(g.intensity[k], w.intensity[k], 1e-5 * std::abs(w.intensity[k]) + 1e-6) << "peak " << k;
    }
    EXPECT_TRUE(same_float(g.timestamp, w.timestamp)) << g.timestamp << " vs " << w.timestamp;
    EXPECT_TRUE(same_float(g.photon_energy_ev, w.photon_energy_ev))
        << g.photon_energy_ev << " vs " << w.photon_energy_ev;
    total_peaks += size_t(w.n_peaks);
  }
  EXPECT_GT(total_peaks, 0u) << "no peaks anywhere: the comparison would be empty";
  // A tie stays rare (else kLogitTie would hide real differences): about 1e-4 of the pixels here.
  EXPECT_LT(tie_pixels * 1000, pixels) << tie_pixels << " of " << pixels << " pixels are ties";
  std::cout << "[ e2e      ] " << want.size() << " events, " << tie_pixels << " tie pixels of " << pixels << ", "
            << resolved_ties << " event(s) matched only with a tie resolved the other way\n";

  const SuiteCounters c = suite.counters();
  EXPECT_EQ(c.get(c.ingestd, "messages_received"), files.size());
  EXPECT_EQ(c.get(c.ingestd, "messages_rejected"), rejected);
  EXPECT_EQ(c.get(c.ingestd, "messages_discarded"), 0u);
  EXPECT_EQ(c.get(c.ingestd, "events_received"), want.size());
  EXPECT_EQ(c.get(c.writerd, "events_written"), want.size());
  expect_ledger_balanced(c);
}

/// The detector layout (panels × original height × width) of a message's first event; "" when it
/// has none (rejected as a whole): such messages go with the first group, which checks the rejects.
std::string layout_of(const fs::path& file) {
  peaknet::ingest::DecoderOptions options;
  peaknet::ingest::Decoder decoder(options, std::make_shared<peaknet::ingest::SimplonSession>(options));
  peaknet::ingest::MemorySink sink;
  const auto bytes = read_bytes(file);
  (void)decoder.decode(bytes, sink);
  if (sink.events().empty()) return "";
  const auto& m = sink.events().front().meta;
  return std::to_string(m.channels) + "x" + std::to_string(m.orig_height ? m.orig_height : m.height) + "x" +
         std::to_string(m.orig_width ? m.orig_width : m.width);
}

/// writerd fixes its CXI geometry from the first event and counts other layouts as dropped_bad_shape,
/// so the vectors run as one suite per detector layout, in manifest order.
void run_formats(const std::string& test, const std::set<std::string>& formats,
                 const std::function<bool(const std::string&)>& keep) {
  const auto files = wire_vectors(formats, keep);
  ASSERT_FALSE(files.empty());
  std::vector<std::pair<std::string, std::vector<fs::path>>> groups;
  std::vector<fs::path> no_events;
  for (const auto& f : files) {
    const std::string layout = layout_of(f);
    if (layout.empty()) {
      no_events.push_back(f);
      continue;
    }
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == layout; });
    if (it == groups.end()) it = groups.insert(groups.end(), {layout, {}});
    it->second.push_back(f);
  }
  // One layout (or a Simplon series, whose images decode only after its start message): send order as is.
  if (groups.size() <= 1) return run_group(test, files);
  groups.front().second.insert(groups.front().second.end(), no_events.begin(), no_events.end());
  for (size_t g = 0; g < groups.size(); ++g) {
    SCOPED_TRACE("layout " + groups[g].first);
    run_group(test + std::to_string(g), groups[g].second);
  }
}

// 1 × 64 × 80 (float32, float64, uint16, NaN frame, batch of 1, merged channels, stored / deflate).
TEST(EndToEnd, NpzSinglePanelVectorsMatchTheLibraries) {
  run_formats("npz1", {"npz"}, [](const std::string& f) { return !has(f, "-c2.npzmsg"); });
}

// 2 × 64 × 80: two panels, stacked along slow scan in the CXI coordinates.
TEST(EndToEnd, NpzTwoPanelVectorMatchesTheLibraries) {
  run_formats("npz2", {"npz"}, [](const std::string& f) { return has(f, "-c2.npzmsg"); });
}

// Every HDF5 filter (none, gzip, shuffle, bitshuffle-LZ4/Zstd, ZFP) and dtype, FastBinary; one suite
// per layout (1×64×80, 1×67×93). Event 10 of the 67×93 group has a pixel at logit margin −2.1e-6: see
// kLogitTie (e2e_reference.hpp).
TEST(EndToEnd, Hdf5AndFastBinaryVectorsMatchTheLibraries) {
  run_formats("hdf5", {"hdf5", "fastbinary"}, [](const std::string& f) { return !has(f, "psana2"); });
}

// lclstream psana2 layout: uint16 2 × 64 × 96, bitshuffle-LZ4, no wavelength.
TEST(EndToEnd, Hdf5Psana2RawVectorMatchesTheLibraries) {
  run_formats("psana2", {"hdf5"}, [](const std::string& f) { return has(f, "psana2"); });
}

// Simplon series (start, images, stop) in the current and the legacy control format: 67 × 93.
TEST(EndToEnd, SimplonSeriesMatchTheLibraries) {
  run_formats("simplon", {"simplon-cbor"}, [](const std::string& f) { return !has(f, "pr51"); });
}

// Simplon PR 51 series (start, 2-panel images, end): 2 × 65 × 87.
TEST(EndToEnd, SimplonPr51SeriesMatchesTheLibraries) {
  run_formats("pr51", {"simplon-cbor"}, [](const std::string& f) { return has(f, "pr51"); });
}

}  // namespace
