#include "peaks/peak_finder.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <string>

#include "peaks/component_labeller.hpp"
#include "peaks/logit_compare.hpp"

namespace peaknet::peaks {
namespace {

// Per-thread scratch: find_peaks allocates nothing once these have grown to the frame size.
thread_local ComponentLabeller t_labeller;
thread_local std::vector<uint8_t> t_mask_row;

void mask_row_from_logits(const float* logit0, const float* logit1, size_t n, uint8_t* out) {
  // Integer comparison of the bit patterns: exact for subnormals whatever the MXCSR FTZ/DAZ bits.
  for (size_t i = 0; i < n; ++i) {
    out[i] = logit_is_peak(std::bit_cast<uint32_t>(logit0[i]), std::bit_cast<uint32_t>(logit1[i]));
  }
}

}  // namespace

void mask_from_logits(const float* logits, uint32_t panels, uint32_t h, uint32_t w, uint8_t* mask) {
  const size_t plane = static_cast<size_t>(h) * w;
  for (uint32_t p = 0; p < panels; ++p) {
    const float* logit0 = logits + 2 * plane * p;
    mask_row_from_logits(logit0, logit0 + plane, plane, mask + plane * p);
  }
}

namespace {

/// Shared by both entry points: `label_panel(p)` labels panel p into t_labeller and returns its count.
template <typename LabelPanel>
void collect_event(LabelPanel&& label_panel, ImageView image, uint32_t panels, uint32_t h, uint32_t w,
                   const PeakParams& params, EventPeaks& result) {
  const size_t plane = static_cast<size_t>(h) * w;
  const size_t pixel_bytes = shm::dtype_size(image.dtype);
  if (image.data != nullptr && pixel_bytes == 0) {
    throw std::invalid_argument("peaks: image dtype code " + std::to_string(static_cast<int>(image.dtype)) +
                                " is not a shm::DType");
  }
  result.peaks.clear();
  result.n_found = 0;
  for (uint32_t p = 0; p < panels; ++p) {
    const uint32_t n = label_panel(p);
    const auto kept = static_cast<uint32_t>(result.peaks.size());
    if (kept < params.max_num_peak && n > 0) {
      const ImageView panel_image{
          image.data ? static_cast<const uint8_t*>(image.data) + plane * pixel_bytes * p : nullptr, image.dtype};
      t_labeller.measure(panel_image, p, params.max_num_peak - kept, result.peaks);
    }
    result.n_found += n;
  }
  result.hit = result.n_found >= params.min_num_peak;
}

}  // namespace

void find_peaks(const uint8_t* mask, ImageView image, uint32_t panels, uint32_t h, uint32_t w, const PeakParams& params,
                EventPeaks& out) {
  const size_t plane = static_cast<size_t>(h) * w;
  collect_event([&](uint32_t p) { return t_labeller.label(mask + plane * p, h, w); }, image, panels, h, w, params, out);
}

void find_peaks_from_logits(const float* logits, ImageView image, uint32_t panels, uint32_t h, uint32_t w,
                            const PeakParams& params, EventPeaks& out) {
  // Row by row into a w-byte buffer that stays in L1: the logits are read once, no mask is written.
  const size_t plane = static_cast<size_t>(h) * w;
  t_mask_row.resize(w);
  auto label_panel = [&](uint32_t p) {
    const float* logit0 = logits + 2 * plane * p;
    return t_labeller.label_rows(h, w, [&](uint32_t y) {
      const size_t offset = static_cast<size_t>(y) * w;
      mask_row_from_logits(logit0 + offset, logit0 + plane + offset, w, t_mask_row.data());
      return t_mask_row.data();
    });
  };
  collect_event(label_panel, image, panels, h, w, params, out);
}

EventPeaks find_peaks(const uint8_t* mask, ImageView image, uint32_t panels, uint32_t h, uint32_t w,
                      const PeakParams& params) {
  EventPeaks out;
  find_peaks(mask, image, panels, h, w, params, out);
  return out;
}

EventPeaks find_peaks_from_logits(const float* logits, ImageView image, uint32_t panels, uint32_t h, uint32_t w,
                                  const PeakParams& params) {
  EventPeaks out;
  find_peaks_from_logits(logits, image, panels, h, w, params, out);
  return out;
}

}  // namespace peaknet::peaks
