#pragma once
// Detector geometry for the CXI writer: where each panel of an event lies in the file's 2-D
// ("Cheetah"/slab) layout. Read from a CrystFEL .geom file (panels in file order; only
// min_fs/max_fs/min_ss/max_ss matter here, ranges inclusive) or, without a file, panels stacked
// along the slow-scan axis (panel p at rows p*H .. p*H+H-1), which is what the golden
// two_panel_96x128.geom describes.
#include <cstdint>
#include <string>
#include <vector>

namespace peaknet::writerd {

struct PanelRect {
  std::string name;
  int64_t min_fs = 0, max_fs = -1, min_ss = 0, max_ss = -1;  ///< inclusive
  int64_t width() const { return max_fs - min_fs + 1; }
  int64_t height() const { return max_ss - min_ss + 1; }
};

/// A peak in detector raw (slab) coordinates, as CXI peakXPosRaw / peakYPosRaw / peakSegPosRaw hold it.
struct RawPosition {
  double fs;  ///< column in the slab = x + min_fs
  double ss;  ///< row in the slab = y + min_ss
  uint32_t seg;
};

class Geometry {
 public:
  /// Parses a CrystFEL geometry file. Throws std::runtime_error naming the file, line and problem
  /// (missing min/max key, max < min, overlapping panels, unreadable file, no panels).
  static Geometry from_geom_file(const std::string& path);
  /// Parses .geom text (`origin` names it in errors).
  static Geometry from_geom_text(const std::string& text, const std::string& origin);
  /// `panels` panels of height x width stacked along slow scan.
  static Geometry stacked(uint32_t panels, uint32_t height, uint32_t width);

  const std::vector<PanelRect>& panels() const noexcept { return panels_; }
  /// Slab size = (max over panels of max_ss + 1, max over panels of max_fs + 1).
  int64_t slab_height() const noexcept { return slab_height_; }
  int64_t slab_width() const noexcept { return slab_width_; }
  const std::string& origin() const noexcept { return origin_; }
  /// The CrystFEL .geom describing this layout: the file's own text when parsed from one, else
  /// crystfel_geom_text() (stacked panels). writerd writes it beside the CXI files as <run>.geom.
  std::string geom_text() const;

  /// Empty when an event of `channels` panels of height x width (unpadded) fits this geometry;
  /// else why not ("event has 3 panels, geometry has 2").
  std::string check_event_shape(uint32_t channels, uint32_t height, uint32_t width) const;
  /// (panel, y, x) in the unpadded panel frame -> slab coordinates (double; round once to float).
  RawPosition to_raw(uint32_t panel, double y, double x) const {
    const PanelRect& p = panels_[panel];
    return RawPosition{x + double(p.min_fs), y + double(p.min_ss), panel};
  }

 private:
  void finalize();
  std::vector<PanelRect> panels_;
  int64_t slab_height_ = 0, slab_width_ = 0;
  std::string origin_;
  std::string source_text_;  // the .geom text it was parsed from ("" for stacked)
};

/// A CrystFEL geometry file for `g`'s panels as writerd writes them: data = /entry_1/data_1/data
/// (dim0 = %, events), peak_list = /entry_1/result_1 (cxi), photon_energy from /LCLS/photon_energy_eV,
/// each panel's min/max fs/ss, fs = +x, ss = +y, and corners that stack the panels along y with a
/// 4-pixel gap, centred on the beam (golden two_panel_96x128.geom is this for 2 panels of 96x128).
/// clen (0.1 m) and res (10000 px/m) are placeholders: configure writerd.geometry with the real
/// detector geometry for indexing.
std::string crystfel_geom_text(const Geometry& g);

}  // namespace peaknet::writerd
