#pragma once
// 8-connected component labelling of one panel by runs (scanline union-find), the CPU core of
// find_peaks. Pass 1 turns each row into runs of foreground pixels and unites a run with every run of
// the previous row that touches it (overlap or diagonal contact); the union keeps the smaller run id
// as the root, so each set's root is its raster-first run and numbering roots in run order gives
// exactly the golden label order (raster index of the first pixel). Pass 2 sums per run, in raster
// order, so the float64 intensity sums are bit-identical to scipy's sum_labels.
#include <cstdint>
#include <vector>

#include "peaks/peak_types.hpp"

namespace peaknet::peaks {

/// Reusable scratch for labelling panels one after another (no allocation once grown).
class ComponentLabeller {
 public:
  /// Labels `mask` (h x w, C order, nonzero = foreground); returns the number of components.
  uint32_t label(const uint8_t* mask, uint32_t h, uint32_t w);

  /// Same, with the mask produced row by row: `row_of(y)` returns row y (w bytes), valid until the
  /// next call. Lets find_peaks_from_logits label without writing a whole mask (memory bound path).
  template <typename RowFn>
  uint32_t label_rows(uint32_t h, uint32_t w, RowFn&& row_of) {
    begin(h, w);
    for (uint32_t y = 0; y < h; ++y) add_row(y, row_of(y));
    return finish();
  }

  uint32_t num_components() const { return num_components_; }

  /// Appends the PeakRecords of labels [0, min(limit, num_components)) of the last labelled panel to
  /// `out`, in label order, with intensities from `panel_image` (this panel's h x w pixels; data may
  /// be nullptr) and `panel` as the panel index.
  void measure(ImageView panel_image, uint32_t panel, uint32_t limit, std::vector<shm::PeakRecord>& out);

  /// Label image of the last labelled panel (h*w int32: 0 = background, 1..n in label order).
  void write_label_image(int32_t* labels) const;

 private:
  struct Run {
    uint32_t row;
    uint32_t begin;  ///< first column
    uint32_t end;    ///< one past the last column
  };
  struct Sums {
    uint64_t count;
    uint64_t sum_row;
    uint64_t sum_col;
    double intensity_sum;
    float intensity_max;
  };

  void begin(uint32_t h, uint32_t w);
  void add_row(uint32_t y, const uint8_t* row);
  uint32_t finish();
  uint32_t find_root(uint32_t run);
  void unite(uint32_t a, uint32_t b);
  template <typename T>
  void accumulate(const T* image, uint32_t limit);

  uint32_t height_ = 0, width_ = 0, num_components_ = 0;
  size_t prev_first_ = 0, prev_last_ = 0;  ///< runs of the previous row: [prev_first_, prev_last_)
  std::vector<Run> runs_;
  std::vector<uint32_t> parent_;  ///< union-find over run ids; after label(): the run's label (0-based)
  std::vector<Sums> sums_;
};

}  // namespace peaknet::peaks
