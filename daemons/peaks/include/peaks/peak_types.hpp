#pragma once
// Value types of the peak-finding contract (golden/peaks/README.md defines the algorithm exactly).
#include <cstdint>
#include <vector>

#include "shm/event_layout.hpp"

namespace peaknet::peaks {

/// Event-level rules: the cap on kept peaks and the hit threshold (config section "peaks").
struct PeakParams {
  uint32_t max_num_peak = 2048;  ///< peaks kept per event, panel then label order
  uint32_t min_num_peak = 10;    ///< hit = n_found >= min_num_peak (decided before the cap)
};

/// The peaks of one event: `peaks` holds min(n_found, max_num_peak) records in panel, then label order.
struct EventPeaks {
  std::vector<shm::PeakRecord> peaks;
  uint32_t n_found = 0;  ///< components over all panels, counted before the cap
  bool hit = false;
};

/// Intensities the sums and maxima come from: C-order (panels, height, width) of `dtype`.
/// `data == nullptr` means "no image": intensity_sum and intensity_max are 0.
struct ImageView {
  const void* data = nullptr;
  shm::DType dtype = shm::DType::kF32;
};

}  // namespace peaknet::peaks
