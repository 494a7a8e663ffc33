#pragma once
// Comparing peak lists of two computations of the same model (batch 4 vs batch 1, CPU vs CUDA, bf16 vs
// fp32). Their logits differ in the last bits (GEMM blocking depends on batch size and CPU), so a pixel
// whose two logits nearly tie can flip: a component gains or loses a boundary pixel, or a one-pixel
// component appears or vanishes. What is promised is the same peaks up to such flips, never the bits.
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "shm/event_layout.hpp"

namespace peaknet::inferd::testing {

/// Sum of npix over the kept peaks: the mask's foreground (every foreground pixel is in one peak).
inline uint64_t foreground(const std::vector<shm::PeakRecord>& peaks) {
  uint64_t n = 0;
  for (const auto& p : peaks) n += p.npix;
  return n;
}

/// Confident reference peaks (npix >= min_npix) and how many have a peak of `got` within `radius` px.
struct PeakMatch {
  size_t confident = 0;
  size_t matched = 0;
  std::string missing;  ///< "(y, x, npix)" of the unmatched ones, for the failure message
};
inline PeakMatch match_confident_peaks(const std::vector<shm::PeakRecord>& want,
                                       const std::vector<shm::PeakRecord>& got, uint32_t min_npix, double radius) {
  PeakMatch m;
  std::ostringstream missing;
  for (const auto& p : want) {
    if (p.npix < min_npix) continue;
    ++m.confident;
    bool found = false;
    for (const auto& q : got) found = found || (q.panel == p.panel && std::hypot(q.y - p.y, q.x - p.x) <= radius);
    if (found) {
      ++m.matched;
    } else {
      missing << " (" << p.y << ", " << p.x << ", " << p.npix << ")";
    }
  }
  m.missing = missing.str();
  return m;
}

/// One-to-one pairing of two peak lists of the same event (nearest centroid on the same panel).
struct PeakListDiff {
  size_t identical = 0;  ///< same pixel set: same npix, centroid and intensity sum (up to summation order)
  size_t boundary = 0;   ///< paired within `radius` px, npix differing by at most `max_npix_delta`
  size_t unpaired = 0;   ///< peaks of either list with no partner (a tiny component flipped in or out)
  std::string detail;    ///< the non-identical ones, for failure messages
  size_t differing() const { return boundary + unpaired; }
};
inline PeakListDiff diff_peak_lists(const std::vector<shm::PeakRecord>& want, const std::vector<shm::PeakRecord>& got,
                                    double radius, uint32_t max_npix_delta) {
  PeakListDiff d;
  std::ostringstream detail;
  std::vector<bool> used(got.size(), false);
  for (const auto& p : want) {
    size_t best = got.size();
    double best_dist = radius;
    for (size_t j = 0; j < got.size(); ++j) {
      if (used[j] || got[j].panel != p.panel) continue;
      const double dist = std::hypot(got[j].y - p.y, got[j].x - p.x);
      const uint32_t dn = got[j].npix > p.npix ? got[j].npix - p.npix : p.npix - got[j].npix;
      if (dist <= best_dist && dn <= max_npix_delta) best = j, best_dist = dist;
    }
    if (best == got.size()) {
      ++d.unpaired;
      detail << " want-only(y " << p.y << ", x " << p.x << ", npix " << p.npix << ")";
      continue;
    }
    used[best] = true;
    const auto& q = got[best];
    const bool same_sum = std::abs(q.intensity_sum - p.intensity_sum) <= 1e-6 * std::abs(p.intensity_sum) + 1e-9;
    if (q.npix == p.npix && best_dist <= 1e-9 && same_sum) {
      ++d.identical;
    } else {
      ++d.boundary;
      detail << " boundary(y " << p.y << " vs " << q.y << ", x " << p.x << " vs " << q.x << ", npix " << p.npix
             << " vs " << q.npix << ")";
    }
  }
  for (size_t j = 0; j < got.size(); ++j) {
    if (used[j]) continue;
    ++d.unpaired;
    detail << " got-only(y " << got[j].y << ", x " << got[j].x << ", npix " << got[j].npix << ")";
  }
  d.detail = detail.str();
  return d;
}

}  // namespace peaknet::inferd::testing
