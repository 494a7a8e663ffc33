#include "writerd/geometry.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace peaknet::writerd {
namespace {

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

bool is_range_key(const std::string& key) {
  return key == "min_fs" || key == "max_fs" || key == "min_ss" || key == "max_ss";
}

int64_t parse_integer(const std::string& text, const std::string& where) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || errno != 0 || *end != '\0') {
    throw std::runtime_error(where + ": expected an integer, got \"" + text + "\"");
  }
  return v;
}

// The four range keys, each possibly unset.
struct PartialRect {
  std::optional<int64_t> min_fs, max_fs, min_ss, max_ss;
  std::optional<int64_t>& at(const std::string& key) {
    if (key == "min_fs") return min_fs;
    if (key == "max_fs") return max_fs;
    if (key == "min_ss") return min_ss;
    return max_ss;
  }
};

}  // namespace

Geometry Geometry::from_geom_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("geometry file " + path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return from_geom_text(text.str(), path);
}

Geometry Geometry::from_geom_text(const std::string& text, const std::string& origin) {
  // CrystFEL semantics used here: "panel/key = value" sets a panel property; panels are ordered by
  // first appearance; a top-level "key = value" is the default for panels that first appear after
  // it; names starting with "bad" are bad regions and rigid_group*/ group_* lines are not panels.
  std::vector<std::string> order;
  std::map<std::string, PartialRect> rects;
  PartialRect defaults;
  std::map<std::string, PartialRect> defaults_at_creation;
  std::istringstream lines(text);
  std::string line;
  int line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (auto semi = line.find(';'); semi != std::string::npos) line.resize(semi);
    line = trim(line);
    if (line.empty()) continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;  // CrystFEL ignores such lines with a warning
    const std::string key = trim(line.substr(0, eq));
    const std::string value = trim(line.substr(eq + 1));
    const std::string where = origin + ":" + std::to_string(line_no);
    const auto slash = key.find('/');
    if (slash == std::string::npos) {
      if (is_range_key(key)) defaults.at(key) = parse_integer(value, where);
      continue;
    }
    const std::string panel = key.substr(0, slash);
    const std::string prop = key.substr(slash + 1);
    if (panel.rfind("bad", 0) == 0) continue;
    if (!rects.count(panel)) {
      order.push_back(panel);
      rects[panel] = defaults;
    }
    if (is_range_key(prop)) rects[panel].at(prop) = parse_integer(value, where);
  }
  Geometry g;
  g.origin_ = origin;
  g.source_text_ = text;
  for (const auto& name : order) {
    PartialRect& r = rects[name];
    for (const char* key : {"min_fs", "max_fs", "min_ss", "max_ss"}) {
      if (!r.at(key)) throw std::runtime_error(origin + ": panel " + name + " has no " + key);
    }
    PanelRect p{name, *r.min_fs, *r.max_fs, *r.min_ss, *r.max_ss};
    if (p.min_fs < 0 || p.min_ss < 0 || p.max_fs < p.min_fs || p.max_ss < p.min_ss) {
      throw std::runtime_error(origin + ": panel " + name + " has an empty or negative range (fs " +
                               std::to_string(p.min_fs) + ".." + std::to_string(p.max_fs) + ", ss " +
                               std::to_string(p.min_ss) + ".." + std::to_string(p.max_ss) + ")");
    }
    g.panels_.push_back(std::move(p));
  }
  if (g.panels_.empty()) throw std::runtime_error(origin + ": no panels with min_fs/max_fs/min_ss/max_ss");
  g.finalize();
  return g;
}

Geometry Geometry::stacked(uint32_t panels, uint32_t height, uint32_t width) {
  if (panels == 0 || height == 0 || width == 0) {
    throw std::runtime_error("stacked geometry needs panels, height and width >= 1");
  }
  Geometry g;
  g.origin_ = "<stacked " + std::to_string(panels) + "x" + std::to_string(height) + "x" + std::to_string(width) + ">";
  for (uint32_t p = 0; p < panels; ++p) {
    g.panels_.push_back(
        PanelRect{"p" + std::to_string(p), 0, int64_t(width) - 1, int64_t(p) * height, int64_t(p + 1) * height - 1});
  }
  g.finalize();
  return g;
}

void Geometry::finalize() {
  for (size_t i = 0; i < panels_.size(); ++i) {
    const PanelRect& a = panels_[i];
    slab_height_ = std::max(slab_height_, a.max_ss + 1);
    slab_width_ = std::max(slab_width_, a.max_fs + 1);
    for (size_t j = 0; j < i; ++j) {
      const PanelRect& b = panels_[j];
      const bool overlap = a.min_fs <= b.max_fs && b.min_fs <= a.max_fs && a.min_ss <= b.max_ss && b.min_ss <= a.max_ss;
      if (overlap) throw std::runtime_error(origin_ + ": panels " + b.name + " and " + a.name + " overlap");
    }
  }
}

std::string Geometry::check_event_shape(uint32_t channels, uint32_t height, uint32_t width) const {
  if (channels != panels_.size()) {
    return "event has " + std::to_string(channels) + " panels, geometry " + origin_ + " has " +
           std::to_string(panels_.size());
  }
  for (const auto& p : panels_) {
    if (p.height() != height || p.width() != width) {
      return "event panels are " + std::to_string(height) + "x" + std::to_string(width) + ", panel " + p.name + " of " +
             origin_ + " is " + std::to_string(p.height()) + "x" + std::to_string(p.width());
    }
  }
  return {};
}

std::string Geometry::geom_text() const { return source_text_.empty() ? crystfel_geom_text(*this) : source_text_; }

}  // namespace peaknet::writerd
