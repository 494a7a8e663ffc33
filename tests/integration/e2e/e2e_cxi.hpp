#pragma once
// The rows of writerd's CXI files as the end-to-end tests compare them (HDF5 C API, no LibTorch).
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace peaknet::e2e::testing {

/// One CXI row: what writerd wrote, or what the libraries say it should be.
struct CxiRow {
  uint64_t event_id = 0;
  int32_t n_peaks = 0, n_found = 0;
  std::vector<float> fs, ss, seg, intensity;  ///< n_peaks values each
  double timestamp = 0;
  float photon_energy_ev = 0;
};

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
  if (n_peaks.size() != n || n_found.size() != n || ts.size() != n || ev.size() != n || xs.size() != n * max_num_peak ||
      ys.size() != xs.size() || segs.size() != xs.size() || sums.size() != xs.size()) {
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
