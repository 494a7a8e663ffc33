#pragma once
// deflate_chunk: one HDF5 chunk compressed exactly as HDF5's deflate filter (H5Z_FILTER_DEFLATE)
// stores it (a zlib stream from compress2), so a chunk compressed on a worker thread can be written
// with H5Dwrite_chunk into a dataset that declares the deflate filter, and every HDF5 reader
// (CrystFEL, h5py) decompresses it as if HDF5 had compressed it. Thread-safe (zlib is reentrant).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace peaknet::writerd {

/// Compresses `bytes` bytes at `data` with zlib level 1..9 into `out` (resized to the compressed size).
/// Throws std::runtime_error when zlib fails.
void deflate_chunk(const void* data, size_t bytes, int level, std::vector<uint8_t>& out);

}  // namespace peaknet::writerd
