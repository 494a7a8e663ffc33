#pragma once
// The expected CXI rows of an end-to-end run, computed in the test from the same wire messages:
// the ingest decoder (in process) → the golden tiny PeakNet (pad bottom/right to 32, forward, crop)
// → the CPU peak finder → writerd's stacked-panel raw coordinates. Independent of the daemons'
// code paths except for the libraries they are built from.
#include <hdf5.h>
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ingest/decode/decoder.hpp"
#include "ingest/decode/memory_sink.hpp"
#include "model/inference_model.hpp"
#include "peaks/peak_finder.hpp"

namespace peaknet::e2e::testing {

/// One CXI row: what writerd wrote, or what the libraries say it should be.
struct CxiRow {
  uint64_t event_id = 0;
  int32_t n_peaks = 0, n_found = 0;
  std::vector<float> fs, ss, seg, intensity;  ///< n_peaks values each
  double timestamp = 0;
  float photon_energy_ev = 0;
};

inline std::vector<std::byte> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<std::byte> out(chars.size());
  std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

template <typename T>
void widen(const std::byte* src, size_t n, float* dst) {
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, src + i * sizeof(T), sizeof(T));
    dst[i] = static_cast<float>(v);
  }
}

/// Pixels of any wire dtype as float32 (what inferd feeds the model).
inline std::vector<float> as_float(const std::vector<std::byte>& px, shm::DType t) {
  const size_t n = px.size() / shm::dtype_size(t);
  std::vector<float> out(n);
  switch (t) {
    case shm::DType::kU8: widen<uint8_t>(px.data(), n, out.data()); break;
    case shm::DType::kU16: widen<uint16_t>(px.data(), n, out.data()); break;
    case shm::DType::kU32: widen<uint32_t>(px.data(), n, out.data()); break;
    case shm::DType::kU64: widen<uint64_t>(px.data(), n, out.data()); break;
    case shm::DType::kI8: widen<int8_t>(px.data(), n, out.data()); break;
    case shm::DType::kI16: widen<int16_t>(px.data(), n, out.data()); break;
    case shm::DType::kI32: widen<int32_t>(px.data(), n, out.data()); break;
    case shm::DType::kI64: widen<int64_t>(px.data(), n, out.data()); break;
    case shm::DType::kF32: widen<float>(px.data(), n, out.data()); break;
    case shm::DType::kF64: widen<double>(px.data(), n, out.data()); break;
  }
  return out;
}

/// The row writerd should write for one decoded event (event id = its position in the stream).
inline CxiRow expected_row(model::InferenceModel& model, const ingest::MemorySink::Event& e, uint64_t event_id,
                           const peaks::PeakParams& params) {
  const auto& m = e.meta;
  const int64_t c = m.channels, h = m.height, w = m.width;
  std::vector<float> pixels = as_float(e.pixels, m.dtype);
  c10::InferenceMode guard;
  torch::Tensor x = torch::from_blob(pixels.data(), {c, 1, h, w}, torch::kFloat);
  x = torch::constant_pad_nd(x, {0, (32 - w % 32) % 32, 0, (32 - h % 32) % 32}, 0.0);
  torch::Tensor logits = model.forward(x.contiguous()).to(torch::kFloat);
  logits = logits.slice(2, 0, h).slice(3, 0, w).contiguous();
  const peaks::EventPeaks found = peaks::find_peaks_from_logits(
      logits.data_ptr<float>(), {e.pixels.data(), m.dtype}, uint32_t(c), uint32_t(h), uint32_t(w), params);

  CxiRow row;
  row.event_id = event_id;
  row.n_found = int32_t(found.n_found);
  for (const auto& p : found.peaks) {  // writerd skips centroids in the padding
    const double y = p.y - m.pad_top, xx = p.x - m.pad_left;
    if (y < 0 || xx < 0 || y > m.orig_height - 1 || xx > m.orig_width - 1) continue;
    row.ss.push_back(float(y + double(p.panel) * m.orig_height));  // stacked panels, no .geom
    row.fs.push_back(float(xx));
    row.seg.push_back(float(p.panel));
    row.intensity.push_back(float(p.intensity_sum));
  }
  row.n_peaks = int32_t(row.fs.size());
  row.timestamp = m.timestamp;
  const double wl = m.photon_wavelength_a;
  row.photon_energy_ev = (std::isnan(wl) || wl <= 0) ? NAN : float(12398.4198 / wl);
  return row;
}

/// Decodes `files` in send order with one decoder (as ingestd with one decode thread) and returns
/// the expected rows; event ids are 0.. in that order (endpoint 0).
inline std::vector<CxiRow> expected_rows(const std::vector<std::filesystem::path>& files,
                                         const peaks::PeakParams& params, model::InferenceModel& model) {
  ingest::DecoderOptions options;
  ingest::Decoder decoder(options, std::make_shared<ingest::SimplonSession>(options));
  std::vector<CxiRow> rows;
  for (const auto& f : files) {
    ingest::MemorySink sink;
    const auto bytes = read_bytes(f);
    decoder.decode(bytes, sink);
    for (const auto& e : sink.events()) rows.push_back(expected_row(model, e, rows.size(), params));
  }
  return rows;
}

/// A whole dataset converted to T by HDF5 (empty when missing).
template <typename T>
std::vector<T> read_dataset(hid_t file, const char* name, hid_t mem_type) {
  std::vector<T> out;
  const hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
  if (d < 0) return out;
  const hid_t s = H5Dget_space(d);
  out.resize(size_t(H5Sget_simple_extent_npoints(s)));
  if (!out.empty() && H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) out.clear();
  H5Sclose(s);
  H5Dclose(d);
  return out;
}

/// Every row of a writerd CXI file (peak arrays are (N, max_num_peak), filled with -1).
inline std::vector<CxiRow> read_cxi(const std::filesystem::path& path, size_t max_num_peak) {
  std::vector<CxiRow> rows;
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return rows;
  const auto ids = read_dataset<uint64_t>(f, "/LCLS/event_id", H5T_NATIVE_UINT64);
  const auto n_peaks = read_dataset<int32_t>(f, "/entry_1/result_1/nPeaks", H5T_NATIVE_INT32);
  const auto n_found = read_dataset<int32_t>(f, "/entry_1/result_1/nPeaksFound", H5T_NATIVE_INT32);
  const auto xs = read_dataset<float>(f, "/entry_1/result_1/peakXPosRaw", H5T_NATIVE_FLOAT);
  const auto ys = read_dataset<float>(f, "/entry_1/result_1/peakYPosRaw", H5T_NATIVE_FLOAT);
  const auto segs = read_dataset<float>(f, "/entry_1/result_1/peakSegPosRaw", H5T_NATIVE_FLOAT);
  const auto sums = read_dataset<float>(f, "/entry_1/result_1/peakTotalIntensity", H5T_NATIVE_FLOAT);
  const auto ts = read_dataset<double>(f, "/LCLS/timestamp", H5T_NATIVE_DOUBLE);
  const auto ev = read_dataset<float>(f, "/LCLS/photon_energy_eV", H5T_NATIVE_FLOAT);
  H5Fclose(f);
  const size_t n = ids.size();
  if (n_peaks.size() != n || n_found.size() != n || ts.size() != n || ev.size() != n ||
      xs.size() != n * max_num_peak || ys.size() != xs.size() || segs.size() != xs.size() ||
      sums.size() != xs.size()) {
    return {};  // inconsistent shapes: the caller's row count check fails
  }
  for (size_t i = 0; i < n; ++i) {
    CxiRow r{ids[i], n_peaks[i], n_found[i], {}, {}, {}, {}, ts[i], ev[i]};
    for (int32_t k = 0; k < r.n_peaks && size_t(k) < max_num_peak; ++k) {
      const size_t at = i * max_num_peak + size_t(k);
      r.fs.push_back(xs[at]);
      r.ss.push_back(ys[at]);
      r.seg.push_back(segs[at]);
      r.intensity.push_back(sums[at]);
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace peaknet::e2e::testing
