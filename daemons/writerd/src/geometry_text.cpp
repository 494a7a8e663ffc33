#include <cstdio>
#include <string>

#include "writerd/geometry.hpp"

namespace peaknet::writerd {
namespace {

constexpr double kGapPixels = 4;  // between stacked panels, as in the golden geometry

std::string fixed1(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

}  // namespace

std::string crystfel_geom_text(const Geometry& g) {
  const auto& panels = g.panels();
  std::string out;
  out += "; CrystFEL geometry written by writerd for the CXI files beside it (" + g.origin() + ")\n";
  out += "; " + std::to_string(panels.size()) + " panel(s); panel p of an event occupies rows min_ss..max_ss and\n";
  out += "; columns min_fs..max_fs (inclusive) of /entry_1/data_1/data[event]. clen, res and the corners are\n";
  out += "; placeholders (panels stacked along y): set writerd.geometry to the detector's real .geom to index.\n\n";
  out += "photon_energy = /LCLS/photon_energy_eV eV\n";
  out += "clen = 0.100 m\n";
  out += "res = 10000          ; 100 um pixels\n";
  out += "adu_per_photon = 1\n\n";
  out += "data = /entry_1/data_1/data\n";
  out += "dim0 = %\ndim1 = ss\ndim2 = fs\n\n";
  out += "peak_list = /entry_1/result_1\n";
  out += "peak_list_type = cxi\n\n";
  if (panels.size() > 1) {
    out += "group_all = ";
    for (size_t p = 0; p < panels.size(); ++p) out += (p ? "," : "") + panels[p].name;
    out += "\n\n";
  }
  double total = 0;
  for (const auto& p : panels) total += double(p.height());
  total += kGapPixels * double(panels.size() - 1);
  double y = -total / 2;
  for (const auto& p : panels) {
    const std::string& n = p.name;
    out += n + "/min_fs = " + std::to_string(p.min_fs) + "\n";
    out += n + "/max_fs = " + std::to_string(p.max_fs) + "\n";
    out += n + "/min_ss = " + std::to_string(p.min_ss) + "\n";
    out += n + "/max_ss = " + std::to_string(p.max_ss) + "\n";
    out += n + "/fs = +1.000000x +0.000000y\n";
    out += n + "/ss = +0.000000x +1.000000y\n";
    out += n + "/corner_x = " + fixed1(-double(p.width()) / 2) + "\n";
    out += n + "/corner_y = " + fixed1(y) + "\n\n";
    y += double(p.height()) + kGapPixels;
  }
  return out;
}

}  // namespace peaknet::writerd
