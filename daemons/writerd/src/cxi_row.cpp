#include "writerd/cxi_row.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace peaknet::writerd {
namespace {

template <typename T>
float load_as_float(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return static_cast<float>(v);
}

float load_pixel(shm::DType t, const uint8_t* p) {
  switch (t) {
    case shm::DType::kU8:
      return load_as_float<uint8_t>(p);
    case shm::DType::kU16:
      return load_as_float<uint16_t>(p);
    case shm::DType::kU32:
      return load_as_float<uint32_t>(p);
    case shm::DType::kU64:
      return load_as_float<uint64_t>(p);
    case shm::DType::kI8:
      return load_as_float<int8_t>(p);
    case shm::DType::kI16:
      return load_as_float<int16_t>(p);
    case shm::DType::kI32:
      return load_as_float<int32_t>(p);
    case shm::DType::kI64:
      return load_as_float<int64_t>(p);
    case shm::DType::kF32:
      return load_as_float<float>(p);
    case shm::DType::kF64:
      return load_as_float<double>(p);
  }
  return std::numeric_limits<float>::quiet_NaN();
}

std::string check_frame(const shm::ResultHeader& h, uint64_t frame_bytes) {
  if (frame_bytes == 0) return {};
  const size_t ds = shm::dtype_size(h.frame_dtype);
  if (ds == 0) return "frame dtype " + std::to_string(int(h.frame_dtype)) + " is unknown";
  const uint64_t stored = uint64_t(h.channels) * h.height * h.width * ds;
  const uint64_t unpadded = uint64_t(h.channels) * h.orig_height * h.orig_width * ds;
  if (frame_bytes != unpadded && frame_bytes != stored) {
    return "frame has " + std::to_string(frame_bytes) + " bytes, expected " + std::to_string(unpadded) +
           " (unpadded) or " + std::to_string(stored) + " (stored)";
  }
  return {};
}

// Places the event's panels into the slab. The frame is either the stored (padded) frame, cropped
// with the pad offsets, or already the unpadded one.
std::string place_frame(const shm::ResultHeader& h, const uint8_t* frame, uint64_t frame_bytes, const Geometry& g,
                        std::vector<float>& slab) {
  if (std::string why = check_frame(h, frame_bytes); !why.empty()) return why;
  const size_t ds = shm::dtype_size(h.frame_dtype);
  const uint64_t unpadded = uint64_t(h.channels) * h.orig_height * h.orig_width * ds;
  uint32_t src_h, src_w, top, left;
  if (frame_bytes == unpadded) {
    src_h = h.orig_height, src_w = h.orig_width, top = 0, left = 0;
  } else {
    src_h = h.height, src_w = h.width, top = h.pad_top, left = h.pad_left;
  }
  const int64_t slab_w = g.slab_width();
  for (uint32_t p = 0; p < h.channels; ++p) {
    const PanelRect& r = g.panels()[p];
    for (uint32_t y = 0; y < h.orig_height; ++y) {
      const uint8_t* src = frame + ((uint64_t(p) * src_h + top + y) * src_w + left) * ds;
      float* dst = slab.data() + (r.min_ss + y) * slab_w + r.min_fs;
      if (h.frame_dtype == shm::DType::kF32) {
        std::memcpy(dst, src, size_t(h.orig_width) * 4);
      } else {
        for (uint32_t x = 0; x < h.orig_width; ++x) dst[x] = load_pixel(h.frame_dtype, src + x * ds);
      }
    }
  }
  return {};
}

}  // namespace

std::string place_mask(const shm::ResultHeader& h, const uint8_t* mask, const Geometry& g, std::vector<uint8_t>& slab) {
  if (h.mask_channels != h.channels || h.mask_height != h.height || h.mask_width != h.width) {
    return "mask shape differs from the stored frame's";
  }
  if (std::string why = check_cxi_inputs(h, 0, g); !why.empty()) return why;
  const int64_t slab_w = g.slab_width();
  slab.assign(size_t(g.slab_height() * slab_w), 0);
  for (uint32_t p = 0; p < h.channels; ++p) {
    const PanelRect& r = g.panels()[p];
    for (uint32_t y = 0; y < h.orig_height; ++y) {
      const uint8_t* src = mask + (uint64_t(p) * h.height + h.pad_top + y) * h.width + h.pad_left;
      std::memcpy(slab.data() + (r.min_ss + y) * slab_w + r.min_fs, src, h.orig_width);
    }
  }
  return {};
}

float photon_energy_ev(double wavelength_a) {
  if (!(wavelength_a > 0)) return std::numeric_limits<float>::quiet_NaN();
  return static_cast<float>(kHcEvAngstrom / wavelength_a);
}

std::string check_cxi_inputs(const shm::ResultHeader& h, uint64_t frame_bytes, const Geometry& g) {
  if (h.pad_top + uint64_t(h.orig_height) > h.height || h.pad_left + uint64_t(h.orig_width) > h.width) {
    return "pad offsets (" + std::to_string(h.pad_top) + ", " + std::to_string(h.pad_left) +
           ") + unpadded shape exceed the stored frame";
  }
  if (std::string why = g.check_event_shape(h.channels, h.orig_height, h.orig_width); !why.empty()) {
    return why;
  }
  return check_frame(h, frame_bytes);
}

std::string make_cxi_row(const shm::ResultHeader& h, const shm::PeakRecord* peaks, const uint8_t* frame,
                         uint64_t frame_bytes, const Geometry& g, uint32_t max_num_peak, bool want_frame, CxiRow& row) {
  if (std::string why = check_cxi_inputs(h, frame_bytes, g); !why.empty()) return why;
  row.event_id = h.event_id;
  row.ingest_epoch = h.ingest_epoch;
  row.timestamp = h.timestamp;
  row.timestamp_raw = h.timestamp_raw;
  row.t_recv_ns = h.t_recv_ns;
  row.n_found = static_cast<int32_t>(std::min<uint64_t>(h.n_found, INT32_MAX));
  row.photon_energy_ev = photon_energy_ev(h.photon_wavelength_a);
  row.peaks_outside = 0;
  row.frame_missing = false;
  for (auto* v : {&row.fs, &row.ss, &row.seg, &row.intensity}) v->clear();
  const uint32_t n = std::min(h.n_peaks, max_num_peak);
  for (uint32_t i = 0; i < n; ++i) {
    const shm::PeakRecord& pk = peaks[i];
    const double y = pk.y - double(h.pad_top);
    const double x = pk.x - double(h.pad_left);
    // A centroid in the padding (or a bad panel index) has no detector position: skip, count.
    if (pk.panel >= h.channels || !(y >= 0 && y <= h.orig_height - 1.0) || !(x >= 0 && x <= h.orig_width - 1.0)) {
      ++row.peaks_outside;
      continue;
    }
    const RawPosition raw = g.to_raw(pk.panel, y, x);
    row.fs.push_back(static_cast<float>(raw.fs));
    row.ss.push_back(static_cast<float>(raw.ss));
    row.seg.push_back(static_cast<float>(raw.seg));
    row.intensity.push_back(static_cast<float>(pk.intensity_sum));
  }
  row.frame.clear();
  if (want_frame) {
    row.frame.assign(size_t(g.slab_height() * g.slab_width()), 0.0f);
    if (frame == nullptr || frame_bytes == 0) {
      std::fill(row.frame.begin(), row.frame.end(), std::numeric_limits<float>::quiet_NaN());
      row.frame_missing = true;
    } else if (std::string why = place_frame(h, frame, frame_bytes, g, row.frame); !why.empty()) {
      return why;
    }
  }
  return {};
}

}  // namespace peaknet::writerd
