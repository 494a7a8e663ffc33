#include "writerd/cxi_file.hpp"

#include <algorithm>
#include <optional>

#include "writerd/chunk_deflate.hpp"

namespace peaknet::writerd {
namespace {

constexpr float kFill = -1.0f;

// A chunked dataset with an unlimited first dimension: (0, dims...), chunk (chunk_rows, dims...).
H5Handle make_dataset(hid_t parent, const char* name, hid_t type, std::vector<hsize_t> row_dims, hsize_t chunk_rows,
                      int deflate, const void* fill, const std::string& file) {
  const std::string ctx = file + ": create " + name;
  std::vector<hsize_t> dims{0}, max{H5S_UNLIMITED}, chunk{chunk_rows};
  for (hsize_t d : row_dims) {
    dims.push_back(d);
    max.push_back(d);
    chunk.push_back(d);
  }
  H5Handle space = h5_space(H5Screate_simple(int(dims.size()), dims.data(), max.data()), ctx);
  H5Handle dcpl = h5_plist(H5Pcreate(H5P_DATASET_CREATE), ctx);
  h5_check(H5Pset_chunk(dcpl.get(), int(chunk.size()), chunk.data()), ctx);
  if (fill) h5_check(H5Pset_fill_value(dcpl.get(), type, fill), ctx);
  if (deflate > 0) h5_check(H5Pset_deflate(dcpl.get(), unsigned(deflate)), ctx);
  return h5_dataset(H5Dcreate2(parent, name, type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT), ctx);
}

std::vector<float> padded_rows(const std::vector<const CxiRow*>& rows, uint32_t width,
                               const std::vector<float> CxiRow::*field) {
  std::vector<float> out(rows.size() * size_t(width), kFill);
  for (size_t r = 0; r < rows.size(); ++r) {
    const std::vector<float>& v = rows[r]->*field;
    std::copy_n(v.begin(), std::min<size_t>(v.size(), width), out.begin() + r * width);
  }
  return out;
}

}  // namespace

CxiFile::CxiFile(const std::string& path, const CxiLayout& layout) : path_(path), layout_(layout) {
  file_ = h5_file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "create " + path);
  const auto group = [&](const char* name) {
    return h5_group(H5Gcreate2(file_.get(), name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                    path + ": create group " + name);
  };
  H5Handle entry = group("/entry_1");
  H5Handle result = group("/entry_1/result_1");
  H5Handle lcls = group("/LCLS");
  const hsize_t m = layout.max_num_peak;
  const int z = layout.compression_level;
  n_peaks_ = make_dataset(result.get(), "nPeaks", H5T_STD_I32LE, {}, 256, 0, nullptr, path);
  n_found_ = make_dataset(result.get(), "nPeaksFound", H5T_STD_I32LE, {}, 256, 0, nullptr, path);
  x_ = make_dataset(result.get(), "peakXPosRaw", H5T_IEEE_F32LE, {m}, 16, z, &kFill, path);
  y_ = make_dataset(result.get(), "peakYPosRaw", H5T_IEEE_F32LE, {m}, 16, z, &kFill, path);
  seg_ = make_dataset(result.get(), "peakSegPosRaw", H5T_IEEE_F32LE, {m}, 16, z, &kFill, path);
  intensity_ = make_dataset(result.get(), "peakTotalIntensity", H5T_IEEE_F32LE, {m}, 16, z, &kFill, path);
  energy_ = make_dataset(lcls.get(), "photon_energy_eV", H5T_IEEE_F32LE, {}, 256, 0, nullptr, path);
  event_id_ = make_dataset(lcls.get(), "event_id", H5T_STD_U64LE, {}, 256, 0, nullptr, path);
  epoch_ = make_dataset(lcls.get(), "ingest_epoch", H5T_STD_U64LE, {}, 256, 0, nullptr, path);
  timestamp_ = make_dataset(lcls.get(), "timestamp", H5T_IEEE_F64LE, {}, 256, 0, nullptr, path);
  timestamp_raw_ = make_dataset(lcls.get(), "timestamp_raw", H5T_STD_U64LE, {}, 256, 0, nullptr, path);
  if (layout.frames) {
    H5Handle data = group("/entry_1/data_1");
    data_ = make_dataset(data.get(), "data", H5T_IEEE_F32LE, {hsize_t(layout.slab_height), hsize_t(layout.slab_width)},
                         1, z, nullptr, path);
  }
  if (layout.masks) {
    mask_ = make_dataset(result.get(), "peakMask", H5T_STD_U8LE,
                         {hsize_t(layout.slab_height), hsize_t(layout.slab_width)}, 1, z, nullptr, path);
    mask_status_ = make_dataset(result.get(), "peakMaskStatus", H5T_STD_U8LE, {}, 256, 0, nullptr, path);
  }
}

void CxiFile::extend_and_write(const H5Handle& dataset, int rank, const hsize_t* row_dims, hid_t mem_type,
                               const void* data, size_t n) {
  const std::string ctx = path_ + ": append " + std::to_string(n) + " rows";
  hsize_t new_dims[3] = {rows_ + n, 0, 0}, start[3] = {rows_, 0, 0}, count[3] = {n, 0, 0};
  for (int i = 1; i < rank; ++i) new_dims[i] = count[i] = row_dims[i - 1];
  h5_check(H5Dset_extent(dataset.get(), new_dims), ctx);
  H5Handle file_space = h5_space(H5Dget_space(dataset.get()), ctx);
  h5_check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), ctx);
  H5Handle mem_space = h5_space(H5Screate_simple(rank, count, nullptr), ctx);
  h5_check(H5Dwrite(dataset.get(), mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, data), ctx);
}

void CxiFile::append(const std::vector<const CxiRow*>& rows) {
  if (rows.empty()) return;
  const size_t n = rows.size();
  const hsize_t m = layout_.max_num_peak;
  std::vector<int32_t> n_peaks(n), n_found(n);
  std::vector<float> energy(n);
  std::vector<uint64_t> ids(n), epochs(n), raw_stamps(n);
  std::vector<double> stamps(n);
  for (size_t r = 0; r < n; ++r) {
    n_peaks[r] = std::min<int32_t>(rows[r]->n_peaks(), int32_t(m));
    n_found[r] = rows[r]->n_found;
    energy[r] = rows[r]->photon_energy_ev;
    ids[r] = rows[r]->event_id;
    epochs[r] = rows[r]->ingest_epoch;
    stamps[r] = rows[r]->timestamp;
    raw_stamps[r] = rows[r]->timestamp_raw;
  }
  extend_and_write(x_, 2, &m, H5T_NATIVE_FLOAT, padded_rows(rows, m, &CxiRow::fs).data(), n);
  extend_and_write(y_, 2, &m, H5T_NATIVE_FLOAT, padded_rows(rows, m, &CxiRow::ss).data(), n);
  extend_and_write(seg_, 2, &m, H5T_NATIVE_FLOAT, padded_rows(rows, m, &CxiRow::seg).data(), n);
  extend_and_write(intensity_, 2, &m, H5T_NATIVE_FLOAT, padded_rows(rows, m, &CxiRow::intensity).data(), n);
  extend_and_write(energy_, 1, nullptr, H5T_NATIVE_FLOAT, energy.data(), n);
  extend_and_write(event_id_, 1, nullptr, H5T_NATIVE_UINT64, ids.data(), n);
  extend_and_write(epoch_, 1, nullptr, H5T_NATIVE_UINT64, epochs.data(), n);
  extend_and_write(timestamp_, 1, nullptr, H5T_NATIVE_DOUBLE, stamps.data(), n);
  extend_and_write(timestamp_raw_, 1, nullptr, H5T_NATIVE_UINT64, raw_stamps.data(), n);
  extend_and_write(n_found_, 1, nullptr, H5T_NATIVE_INT32, n_found.data(), n);
  if (data_.valid()) append_frames(rows);
  if (mask_.valid()) append_masks(rows);
  // nPeaks last: a row counts once its count is there (matters only to a reader of a partial file).
  extend_and_write(n_peaks_, 1, nullptr, H5T_NATIVE_INT32, n_peaks.data(), n);
  rows_ += n;
}

void CxiFile::append_frames(const std::vector<const CxiRow*>& rows) {
  const size_t pixels = size_t(layout_.slab_height * layout_.slab_width);
  append_row_chunks(
      data_, rows.size(), pixels * sizeof(float),
      [&](size_t r) -> const void* { return rows[r]->frame.size() == pixels ? rows[r]->frame.data() : nullptr; },
      "frames");
}

void CxiFile::append_masks(const std::vector<const CxiRow*>& rows) {
  const size_t n = rows.size();
  const size_t pixels = size_t(layout_.slab_height * layout_.slab_width);
  std::vector<uint8_t> status(n);
  for (size_t r = 0; r < n; ++r) status[r] = uint8_t(rows[r]->mask_status);
  extend_and_write(mask_status_, 1, nullptr, H5T_NATIVE_UINT8, status.data(), n);
  append_row_chunks(
      mask_, n, pixels,
      [&](size_t r) -> const void* { return rows[r]->mask.size() == pixels ? rows[r]->mask.data() : nullptr; },
      "masks");
}

void CxiFile::append_row_chunks(const H5Handle& dataset, size_t n, size_t row_bytes,
                                const std::function<const void*(size_t)>& row_of, const char* what) {
  // Every row is one chunk (1, H, W). Workers deflate the chunks exactly as HDF5's deflate filter
  // would; this thread then writes them in row order with H5Dwrite_chunk (libhdf5 is serial).
  const std::string ctx = path_ + ": append " + what;
  const hsize_t h = hsize_t(layout_.slab_height), w = hsize_t(layout_.slab_width);
  const int level = layout_.compression_level;
  if (chunks_.size() < n) chunks_.resize(n);
  std::vector<uint8_t> zeros;
  if (level > 0) {
    const auto deflate_row = [&](size_t r) {
      const void* row = row_of(r);
      if (row == nullptr) {
        const std::vector<uint8_t> blank(row_bytes, 0);
        deflate_chunk(blank.data(), row_bytes, level, chunks_[r]);
      } else {
        deflate_chunk(row, row_bytes, level, chunks_[r]);
      }
    };
    if (layout_.pool) {
      layout_.pool->run(n, deflate_row);
    } else {
      for (size_t r = 0; r < n; ++r) deflate_row(r);
    }
  }
  const hsize_t new_dims[3] = {rows_ + n, h, w};
  h5_check(H5Dset_extent(dataset.get(), new_dims), ctx);
  for (size_t r = 0; r < n; ++r) {
    const hsize_t offset[3] = {rows_ + r, 0, 0};
    const void* chunk = nullptr;
    size_t size = row_bytes;
    if (level > 0) {
      chunk = chunks_[r].data();
      size = chunks_[r].size();
    } else if ((chunk = row_of(r)) == nullptr) {
      zeros.assign(row_bytes, 0);
      chunk = zeros.data();
    }
    h5_check(H5Dwrite_chunk(dataset.get(), H5P_DEFAULT, 0, offset, size, chunk), ctx);
  }
}

void CxiFile::close() {
  if (!file_.valid()) return;
  const std::string ctx = "close " + path_;
  bool ok = true;
  for (H5Handle* d : {&n_peaks_, &n_found_, &x_, &y_, &seg_, &intensity_, &energy_, &event_id_, &epoch_, &timestamp_,
                      &timestamp_raw_, &data_, &mask_, &mask_status_}) {
    ok = d->reset() && ok;
  }
  const herr_t flushed = H5Fflush(file_.get(), H5F_SCOPE_LOCAL);
  const hid_t file = file_.release();
  if (H5Fclose(file) < 0) {
    ok = false;
    h5_defer_close(file);  // still open inside HDF5: closed again once the disk takes the flush
  }
  ok = ok && flushed >= 0;
  if (!ok) {
    const std::string detail = h5_last_error();
    throw H5Error(ctx + ": " + (detail.empty() ? "HDF5 close failed" : detail));
  }
}

namespace {

// A 1-D uint64 dataset of `file`; nullopt when it does not exist.
std::optional<std::vector<uint64_t>> read_u64_column(const H5Handle& file, const char* name, const std::string& path) {
  if (H5Lexists(file.get(), name, H5P_DEFAULT) <= 0) return std::nullopt;
  const std::string ctx = path + ": " + name;
  H5Handle ds = h5_dataset(H5Dopen2(file.get(), name, H5P_DEFAULT), ctx);
  H5Handle space = h5_space(H5Dget_space(ds.get()), ctx);
  hsize_t n = 0;
  if (H5Sget_simple_extent_ndims(space.get()) != 1) throw H5Error(ctx + " is not 1-D");
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  std::vector<uint64_t> values(n);
  if (n > 0)
    h5_check(H5Dread(ds.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "read " + ctx);
  return values;
}

}  // namespace

std::vector<uint64_t> CxiFile::read_event_ids(const std::string& path) {
  H5Handle file = h5_file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "open " + path);
  auto ids = read_u64_column(file, "/LCLS/event_id", path);
  if (!ids) throw H5Error(path + ": /LCLS/event_id: no such dataset");
  return std::move(*ids);
}

std::vector<EventKey> CxiFile::read_event_keys(const std::string& path) {
  H5Handle file = h5_file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "open " + path);
  auto ids = read_u64_column(file, "/LCLS/event_id", path);
  if (!ids) throw H5Error(path + ": /LCLS/event_id: no such dataset");
  const auto epochs = read_u64_column(file, "/LCLS/ingest_epoch", path);
  if (epochs && epochs->size() != ids->size()) {
    throw H5Error(path + ": /LCLS/ingest_epoch has " + std::to_string(epochs->size()) + " rows, /LCLS/event_id " +
                  std::to_string(ids->size()));
  }
  std::vector<EventKey> keys(ids->size());
  for (size_t i = 0; i < keys.size(); ++i) keys[i] = {epochs ? (*epochs)[i] : 0, (*ids)[i]};
  return keys;
}

}  // namespace peaknet::writerd
