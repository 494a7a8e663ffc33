#pragma once
// CxiFile: one CXI file being written, rows appended in blocks, as CrystFEL's `--peaks=cxi` reads it.
//
//   /entry_1/result_1/nPeaks              (N,)   int32    kept peaks of the row
//   /entry_1/result_1/peakXPosRaw         (N, M) float32  fs in the slab, fill -1
//   /entry_1/result_1/peakYPosRaw         (N, M) float32  ss in the slab, fill -1
//   /entry_1/result_1/peakSegPosRaw       (N, M) float32  panel index, fill -1
//   /entry_1/result_1/peakTotalIntensity  (N, M) float32  sum over the component, fill -1
//   /entry_1/result_1/nPeaksFound         (N,)   int32    components before the cap (extra)
//   /LCLS/photon_energy_eV                (N,)   float32
//   /LCLS/event_id                        (N,)   uint64   suite event id, unique within its epoch
//   /LCLS/ingest_epoch                    (N,)   uint64   ingestd's epoch: (epoch, id) = the event (dedup on restart)
//   /LCLS/timestamp                       (N,)   float64  stream timestamp (NaN when absent)
//   /LCLS/timestamp_raw                   (N,)   uint64   exact integer timestamp, psana (sec<<32)|nsec, 0 = absent
//   /entry_1/data_1/data                  (N, H, W) float32, optional, chunked per frame + deflate;
//                                         each chunk deflated on the WorkPool, written by H5Dwrite_chunk
//   /entry_1/result_1/peakMask            (N, H, W) uint8, optional (write_masks): PeakNet mask of the hit,
//                                         1 = peak pixel, aligned with data_1/data; chunked and deflated as frames
//   /entry_1/result_1/peakMaskStatus      (N,)   uint8    MaskStatus: 0 none (not a hit), 1 mask, 2 missing
// M = max_num_peak. Every dataset is chunked with an unlimited first dimension, so a file may hold
// fewer rows than planned. Not thread-safe (libhdf5 serial): one writer thread per process.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "writerd/cxi_row.hpp"
#include "writerd/event_id_window.hpp"
#include "writerd/h5_handle.hpp"
#include "writerd/work_pool.hpp"

namespace peaknet::writerd {

struct CxiLayout {
  uint32_t max_num_peak = 2048;
  bool frames = false;
  bool masks = false;                       ///< peakMask + peakMaskStatus (writerd.write_masks)
  int64_t slab_height = 0, slab_width = 0;  ///< frame and mask size when `frames` or `masks`
  int compression_level = 4;                ///< deflate for frames and peak arrays (0 = none)
  WorkPool* pool = nullptr;                 ///< deflates frames in parallel (nullptr: on the caller)
};

class CxiFile {
 public:
  /// Creates `path` (truncating). Throws H5Error naming the path.
  CxiFile(const std::string& path, const CxiLayout& layout);
  CxiFile(CxiFile&&) noexcept = default;
  CxiFile& operator=(CxiFile&&) noexcept = default;

  /// Appends rows at the end (one extend + one write per dataset). Throws H5Error.
  void append(const std::vector<const CxiRow*>& rows);
  /// Flushes and closes; throws H5Error when HDF5 reports a failure (e.g. disk full on flush).
  void close();
  uint64_t rows() const noexcept { return rows_; }
  const std::string& path() const noexcept { return path_; }

  /// Event ids stored in a completed CXI file (/LCLS/event_id). Throws H5Error naming the file.
  static std::vector<uint64_t> read_event_ids(const std::string& path);
  /// (ingest_epoch, event_id) of every row; epoch 0 for files written before epochs existed.
  static std::vector<EventKey> read_event_keys(const std::string& path);

 private:
  void extend_and_write(const H5Handle& dataset, int rank, const hsize_t* row_dims, hid_t mem_type, const void* data,
                        size_t n);
  void append_frames(const std::vector<const CxiRow*>& rows);
  void append_masks(const std::vector<const CxiRow*>& rows);
  /// Appends one chunk per row to `dataset` (rows of `row_bytes`, each deflated on the pool, written in
  /// row order with H5Dwrite_chunk); `row_of(r)` is row r's bytes or nullptr for a zero row.
  void append_row_chunks(const H5Handle& dataset, size_t n, size_t row_bytes,
                         const std::function<const void*(size_t)>& row_of, const char* what);

  std::string path_;
  CxiLayout layout_;
  uint64_t rows_ = 0;
  H5Handle file_;
  H5Handle n_peaks_, n_found_, x_, y_, seg_, intensity_, energy_, event_id_, epoch_, timestamp_, timestamp_raw_, data_,
      mask_, mask_status_;
  std::vector<std::vector<uint8_t>> chunks_;  // deflated frames of one append, reused
};

}  // namespace peaknet::writerd
