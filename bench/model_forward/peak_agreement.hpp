#pragma once
// How far two PeakNet outputs agree, as the peak finder sees them (bench_model_forward --compare): mask
// agreement, peak-list F1 with centroids matched within a radius, and the largest logit difference.
#include <cmath>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include <torch/torch.h>

#include "peaks/peak_finder.hpp"

namespace peaknet::bench {

struct OutputAgreement {
  double mask_agreement = 0;  // fraction of pixels with the same logit1 > logit0 decision
  double peak_f1 = 0;         // 2 * matched / (peaks_a + peaks_b) over all frames (1 when both have none)
  int64_t peaks_a = 0, peaks_b = 0, matched = 0;
  double max_logit_error = 0;  // max |a - b| over all logits
};

/// Matches each peak of `a` to the nearest unmatched peak of `b` within `radius` px (greedy, in a's order).
inline int64_t match_peaks(const std::vector<shm::PeakRecord>& a, const std::vector<shm::PeakRecord>& b,
                           double radius) {
  const auto cell_key = [](int64_t y, int64_t x) { return (y << 32) ^ (x & 0xffffffff); };
  std::unordered_map<int64_t, std::vector<size_t>> cells;
  for (size_t i = 0; i < b.size(); ++i)
    cells[cell_key(std::llround(b[i].y), std::llround(b[i].x))].push_back(i);
  std::vector<bool> used(b.size(), false);
  const auto reach = static_cast<int64_t>(std::ceil(radius));
  int64_t matched = 0;
  for (const auto& p : a) {
    const int64_t cy = std::llround(p.y), cx = std::llround(p.x);
    double best = radius * radius;
    int64_t best_i = -1;
    for (int64_t dy = -reach; dy <= reach; ++dy)
      for (int64_t dx = -reach; dx <= reach; ++dx) {
        const auto it = cells.find(cell_key(cy + dy, cx + dx));
        if (it == cells.end()) continue;
        for (size_t i : it->second) {
          if (used[i] || b[i].panel != p.panel) continue;
          const double d2 = (b[i].y - p.y) * (b[i].y - p.y) + (b[i].x - p.x) * (b[i].x - p.x);
          if (d2 <= best) best = d2, best_i = static_cast<int64_t>(i);
        }
      }
    if (best_i >= 0) used[static_cast<size_t>(best_i)] = true, ++matched;
  }
  return matched;
}

/// a, b: logits (N, 2, H, W) of the same input (any device, dtype, layout).
inline OutputAgreement compare_outputs(const torch::Tensor& a, const torch::Tensor& b, double radius = 1.0) {
  OutputAgreement r;
  const torch::Tensor fa = a.to(torch::kCPU, torch::kFloat).contiguous(), fb = b.to(torch::kCPU, torch::kFloat).contiguous();
  r.max_logit_error = (fa - fb).abs().max().item<double>();
  const torch::Tensor ma = fa.select(1, 1).gt(fa.select(1, 0)).to(torch::kUInt8).contiguous();
  const torch::Tensor mb = fb.select(1, 1).gt(fb.select(1, 0)).to(torch::kUInt8).contiguous();
  r.mask_agreement = ma.eq(mb).to(torch::kDouble).mean().item<double>();
  peaks::PeakParams params;
  params.max_num_peak = 1u << 30;  // every component counts
  const auto h = static_cast<uint32_t>(ma.size(1)), w = static_cast<uint32_t>(ma.size(2));
  for (int64_t n = 0; n < ma.size(0); ++n) {
    const auto pa = peaks::find_peaks(ma[n].data_ptr<uint8_t>(), {}, 1, h, w, params);
    const auto pb = peaks::find_peaks(mb[n].data_ptr<uint8_t>(), {}, 1, h, w, params);
    r.peaks_a += static_cast<int64_t>(pa.peaks.size());
    r.peaks_b += static_cast<int64_t>(pb.peaks.size());
    r.matched += match_peaks(pa.peaks, pb.peaks, radius);
  }
  r.peak_f1 = r.peaks_a + r.peaks_b == 0 ? 1.0 : 2.0 * static_cast<double>(r.matched) /
                                                     static_cast<double>(r.peaks_a + r.peaks_b);
  return r;
}

}  // namespace peaknet::bench
