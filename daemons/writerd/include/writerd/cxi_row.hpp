#pragma once
// CxiRow: one event as it becomes one row of a CXI file (peak lists already in slab coordinates).
// make_cxi_row() is the one place where a Q2 result turns into file values: pad offsets removed,
// geometry applied, peaks rounded once to float32, photon energy from the wavelength, frame placed.
#include <cstdint>
#include <string>
#include <vector>

#include "shm/event_layout.hpp"
#include "writerd/geometry.hpp"

namespace peaknet::writerd {

/// E[eV] = hc / lambda; hc in eV*Angstrom (the value the golden files use).
inline constexpr double kHcEvAngstrom = 12398.4198;

/// /entry_1/result_1/peakMaskStatus of a row (writerd.write_masks).
enum class MaskStatus : uint8_t {
  kNone = 0,     ///< no mask wanted: not a hit (keep_all_events rows); the mask row is 0
  kWritten = 1,  ///< the row holds the hit's PeakNet mask
  kMissing = 2,  ///< a hit whose mask could not be had (inferd died holding it, no CUDA here, did not
                 ///< fit Q2): the mask row is 0, counted masks_missing
};

struct CxiRow {
  uint64_t event_id = 0;
  uint64_t ingest_epoch = 0;   ///< with event_id the event's identity (0 = producer without epochs)
  double timestamp = 0;        ///< stream timestamp (NaN when absent)
  uint64_t timestamp_raw = 0;  ///< exact integer stream timestamp, psana (sec<<32)|nsec; 0 when absent
  uint64_t t_recv_ns = 0;
  int32_t n_found = 0;                        ///< components before the cap
  float photon_energy_ev = 0;                 ///< float32(12398.4198 / lambda), NaN when lambda is not positive
  std::vector<float> fs, ss, seg, intensity;  ///< n_peaks entries each (the rest of the row is fill)
  std::vector<float> frame;                   ///< slab_height x slab_width, empty when frames are not written
  uint32_t peaks_outside = 0;                 ///< peaks skipped: centroid in the padding or panel index too large
  bool frame_missing = false;                 ///< a frame was wanted but the slot had none (frame written as NaN)
  std::vector<uint8_t> mask;  ///< slab_height x slab_width (1 = peak pixel) with write_masks, else empty
  MaskStatus mask_status = MaskStatus::kNone;
  int32_t n_peaks() const { return static_cast<int32_t>(fs.size()); }
};

float photon_energy_ev(double wavelength_a);

/// Everything make_cxi_row() checks, without making the row: "" or why the event cannot be written.
std::string check_cxi_inputs(const shm::ResultHeader& header, uint64_t frame_bytes, const Geometry& geometry);

/// Converts one Q2 slot. `peaks` = the slot's PeakRecord array (header.n_peaks of them, checked by
/// the caller against the slot size); `frame` the optional frame copy (nullptr = none), either the
/// stored (padded) C x H x W frame or the unpadded C x orig_h x orig_w one, any DType, written as
/// float32. Returns "" and fills `row`, or why the slot cannot be written (geometry mismatch, frame
/// of unexpected size): the caller drops it with a counted reason.
std::string make_cxi_row(const shm::ResultHeader& header, const shm::PeakRecord* peaks, const uint8_t* frame,
                         uint64_t frame_bytes, const Geometry& geometry, uint32_t max_num_peak, bool want_frame,
                         CxiRow& row);

/// Places a mask of the stored frame (header.mask_channels x mask_height x mask_width, uint8; the pad
/// offsets cropped away) into `slab` (slab_height x slab_width, zero outside the panels), as the frame
/// is placed. "" or why not.
std::string place_mask(const shm::ResultHeader& header, const uint8_t* mask, const Geometry& geometry,
                       std::vector<uint8_t>& slab);

}  // namespace peaknet::writerd
