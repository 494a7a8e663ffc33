#pragma once
// CPU peak finding: logits -> mask -> 8-connected components -> PeakRecords per event.
// Exactly the algorithm of golden/peaks/README.md: mask = logit1 > logit0 (IEEE, no flush-to-zero),
// labels in raster order of each component's first pixel, unweighted centroid (y = row, x = column,
// pixel centres at integer coordinates), float64 intensity sum in raster order, cap after panel order.
// Thread-safe: each calling thread uses its own scratch (no allocation once warmed up).
#include <cstdint>

#include "peaks/peak_types.hpp"

namespace peaknet::peaks {

/// mask[p][y][x] = logits[p][1][y][x] > logits[p][0][y][x] for float32 logits of shape
/// (panels, 2, h, w); ties (+0 vs -0 included) and NaN give 0; subnormals compare exactly whatever
/// the FPU's flush-to-zero / denormals-are-zero mode. `mask` has panels*h*w bytes (0 or 1).
void mask_from_logits(const float* logits, uint32_t panels, uint32_t h, uint32_t w, uint8_t* mask);

/// Peaks of one event from its mask (panels, h, w; nonzero = foreground) and the event's image.
EventPeaks find_peaks(const uint8_t* mask, ImageView image, uint32_t panels, uint32_t h, uint32_t w,
                      const PeakParams& params);

/// Same result as mask_from_logits + find_peaks, fused row by row (the logits are read once and no
/// mask is written: this path is memory bound).
EventPeaks find_peaks_from_logits(const float* logits, ImageView image, uint32_t panels, uint32_t h, uint32_t w,
                                  const PeakParams& params);

/// Hot-path variants: fill `out` (its peak vector's capacity is reused, so a warmed-up caller
/// allocates nothing).
void find_peaks(const uint8_t* mask, ImageView image, uint32_t panels, uint32_t h, uint32_t w, const PeakParams& params,
                EventPeaks& out);
void find_peaks_from_logits(const float* logits, ImageView image, uint32_t panels, uint32_t h, uint32_t w,
                            const PeakParams& params, EventPeaks& out);

}  // namespace peaknet::peaks
