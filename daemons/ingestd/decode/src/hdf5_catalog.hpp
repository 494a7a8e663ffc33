#pragma once
// What an HDF5 file image holds, read under libhdf5's global lock in one pass: every dataset's
// type, shape, chunking, filter pipeline and the location of each raw chunk INSIDE the message
// (H5Dget_chunk_info), so chunks are decompressed later outside the lock, in parallel, straight
// into the slots. Datasets whose layout does not fit that scheme are read whole by libhdf5.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "wire_dtype.hpp"

namespace peaknet::ingest {

struct Hdf5Filter {
  int id = 0;
  unsigned flags = 0;
  std::vector<unsigned> cd_values;
};

struct Hdf5Chunk {
  uint64_t leading_index = 0;  ///< offset along dimension 0 (one chunk per leading index)
  uint32_t filter_mask = 0;    ///< bit i set: filter i was skipped for this chunk
  std::span<const std::byte> raw;
};

struct Hdf5Dataset {
  std::string path;                ///< "/data/data"
  std::optional<WireDType> dtype;  ///< nullopt: not a plain integer/float type
  std::string type_text;           ///< for messages when dtype is nullopt
  std::vector<uint64_t> shape;
  std::vector<uint64_t> chunk_shape;  ///< empty when not chunked
  std::vector<Hdf5Filter> filters;
  bool per_row_chunks = false;        ///< chunk == (1,) + shape[1:]: chunk k = row k
  std::vector<Hdf5Chunk> chunks;      ///< per_row_chunks: the stored chunks
  std::span<const std::byte> contiguous;  ///< contiguous layout: the raw data in the message
  bool has_contiguous = false;
  std::vector<std::byte> whole;       ///< read by libhdf5 (little-endian) when `read_whole`
  bool has_whole = false;
  std::string whole_error;            ///< why a whole read failed

  uint64_t elements() const;
  uint64_t row_bytes() const;  ///< bytes of one leading index
};

struct Hdf5Catalog {
  std::vector<Hdf5Dataset> datasets;
  const Hdf5Dataset* find(const std::string& path) const;
};

/// Opens the image (no copy, no temp file), lists datasets and their chunks. `read_whole(ds)`
/// says for which datasets without usable raw layout libhdf5 should read all values (size-capped
/// by `max_bytes`). Throws kTruncated / kMalformed when the image does not open.
Hdf5Catalog read_hdf5_catalog(std::span<const std::byte> message, uint64_t max_bytes,
                              const std::function<bool(const Hdf5Dataset&)>& read_whole);

}  // namespace peaknet::ingest
