// Geometry: CrystFEL .geom parsing (golden files), the stacked default, the (p, y, x) -> raw mapping.
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "writerd/geometry.hpp"

namespace peaknet::writerd {
namespace {

const std::string kGolden = std::string(PEAKNET_GOLDEN_DIR) + "/peaks/";

TEST(WriterdGeometry, ParsesGoldenTwoPanelGeomInFileOrder) {
  const Geometry sut = Geometry::from_geom_file(kGolden + "two_panel_96x128.geom");
  ASSERT_EQ(sut.panels().size(), 2u);
  EXPECT_EQ(sut.panels()[0].name, "p0");
  EXPECT_EQ(sut.panels()[1].name, "p1");
  EXPECT_EQ(sut.panels()[1].min_ss, 96);
  EXPECT_EQ(sut.panels()[1].max_ss, 191);
  EXPECT_EQ(sut.panels()[1].max_fs, 127);
  EXPECT_EQ(sut.slab_height(), 192);
  EXPECT_EQ(sut.slab_width(), 128);
  EXPECT_EQ(sut.check_event_shape(2, 96, 128), "");
  EXPECT_NE(sut.check_event_shape(3, 96, 128), "");
  EXPECT_NE(sut.check_event_shape(2, 96, 127), "");
}

TEST(WriterdGeometry, StackedDefaultEqualsGoldenTwoPanelLayout) {
  const Geometry golden = Geometry::from_geom_file(kGolden + "two_panel_96x128.geom");
  const Geometry sut = Geometry::stacked(2, 96, 128);
  ASSERT_EQ(sut.panels().size(), golden.panels().size());
  for (size_t p = 0; p < 2; ++p) {
    EXPECT_EQ(sut.panels()[p].min_fs, golden.panels()[p].min_fs);
    EXPECT_EQ(sut.panels()[p].max_fs, golden.panels()[p].max_fs);
    EXPECT_EQ(sut.panels()[p].min_ss, golden.panels()[p].min_ss);
    EXPECT_EQ(sut.panels()[p].max_ss, golden.panels()[p].max_ss);
  }
}

// The "key = value" settings of a .geom (comments and blank lines dropped, spaces normalised).
std::map<std::string, std::string> geom_settings(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
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
    out[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return out;
}

TEST(WriterdGeometry, WrittenGeomOfStackedPanelsEqualsTheGoldenGeomFiles) {
  for (uint32_t panels : {1u, 2u}) {
    const std::string name = panels == 1 ? "one_panel_96x128.geom" : "two_panel_96x128.geom";
    std::ifstream in(kGolden + name);
    std::stringstream golden;
    golden << in.rdbuf();
    const Geometry stacked = Geometry::stacked(panels, 96, 128);
    const std::string written = stacked.geom_text();
    EXPECT_EQ(geom_settings(written), geom_settings(golden.str())) << name << ":\n" << written;
    // And it parses back to the same layout.
    const Geometry back = Geometry::from_geom_text(written, "written");
    ASSERT_EQ(back.panels().size(), panels);
    EXPECT_EQ(back.slab_height(), stacked.slab_height());
    EXPECT_EQ(back.slab_width(), stacked.slab_width());
  }
}

TEST(WriterdGeometry, AConfiguredGeomIsWrittenAsItIs) {
  std::ifstream in(kGolden + "two_panel_96x128.geom");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(Geometry::from_geom_file(kGolden + "two_panel_96x128.geom").geom_text(), text.str());
}

TEST(WriterdGeometry, MapsEveryGoldenPeakOfCxiP2) {
  const Geometry sut = Geometry::from_geom_file(kGolden + "two_panel_96x128.geom");
  std::ifstream in(kGolden + "geom_mapping_p2.json");
  const auto mapping = nlohmann::json::parse(in);
  size_t checked = 0;
  auto check = [&](uint32_t p, double y, double x, uint32_t seg, double ss, double fs) {
    const RawPosition raw = sut.to_raw(p, y, x);
    EXPECT_EQ(raw.seg, seg);
    EXPECT_EQ(float(raw.ss), float(ss));
    EXPECT_EQ(float(raw.fs), float(fs));
    ++checked;
  };
  for (const auto& s : mapping["spot_checks"]) {
    check(s["p"], s["y"], s["x"], s["seg"], s["ss"], s["fs"]);
  }
  for (const auto& e : mapping["events"]) {
    for (const auto& q : e["peaks_p_y_x_seg_ss_fs"]) check(q[0], q[1], q[2], q[3], q[4], q[5]);
  }
  EXPECT_GT(checked, 100u);
}

TEST(WriterdGeometry, TopLevelDefaultsCommentsAndBadRegions) {
  const std::string text =
      "; comment\nmin_fs = 0\nmax_fs = 9\n"
      "a/min_ss = 0\na/max_ss = 4   ; trailing comment\n"
      "bad_x/min_fs = 100\nbad_x/max_fs = 200\nrigid_group_all = a,b\n"
      "b/min_ss = 5\nb/max_ss = 9\nb/max_fs = 9\n";
  const Geometry sut = Geometry::from_geom_text(text, "inline.geom");
  ASSERT_EQ(sut.panels().size(), 2u);
  EXPECT_EQ(sut.panels()[0].max_fs, 9);
  EXPECT_EQ(sut.panels()[1].min_ss, 5);
  EXPECT_EQ(sut.slab_height(), 10);
}

TEST(WriterdGeometry, ErrorsNameTheFileAndProblem) {
  auto message = [](const std::string& text) {
    try {
      Geometry::from_geom_text(text, "x.geom");
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("p/min_fs = 0\np/max_fs = 3\np/min_ss = 0\n").find("x.geom: panel p has no max_ss"),
            std::string::npos);
  EXPECT_NE(message("p/min_fs = zero\n").find("x.geom:1: expected an integer"), std::string::npos);
  EXPECT_NE(message("clen = 0.1\n").find("no panels"), std::string::npos);
  EXPECT_NE(message("a/min_fs=0\na/max_fs=9\na/min_ss=0\na/max_ss=9\n"
                    "b/min_fs=5\nb/max_fs=15\nb/min_ss=5\nb/max_ss=15\n")
                .find("overlap"),
            std::string::npos);
  EXPECT_THROW(Geometry::from_geom_file("/nonexistent/x.geom"), std::runtime_error);
}

}  // namespace
}  // namespace peaknet::writerd
