#pragma once
// What an HDF5 file image holds, read under libhdf5's global lock in one pass: every dataset's
// type, shape, chunking, filter pipeline and where its values lie INSIDE the message (contiguous
// data via H5Dget_offset, every chunk of the chunk grid via H5Dget_chunk_info_by_coord). Nothing
// is copied or decompressed under the lock: the decoders copy / decode from the message outside
// it, in parallel, straight into the slots. Only small odd layouts (compact, unallocated contiguous)
// are read whole by libhdf5, under the lock; chunked data never is (a damaged chunk grid would make
// H5Dread crawl through millions of chunks while every decode thread waits), nor contiguous storage
// that does not lie inside the message (libhdf5 1.10.8 crashes on some), nor external files.
#include <cstdint>
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
  uint64_t leading_index = 0;  ///< element offset along dimension 0 (names the chunk in messages)
  uint32_t filter_mask = 0;    ///< bit i set: filter i was skipped for this chunk
  std::span<const std::byte> raw;
  bool stored = true;  ///< false: never written (reading it is a kMalformed reject)
};

struct Hdf5Dataset {
  std::string path;                ///< "/data/data"
  std::optional<WireDType> dtype;  ///< nullopt: not a plain integer/float type
  std::string type_text;           ///< for messages when dtype is nullopt
  std::vector<uint64_t> shape;
  std::vector<uint64_t> chunk_shape;  ///< empty when not chunked
  std::vector<Hdf5Filter> filters;
  bool has_chunks = false;                ///< every position of the chunk grid is listed in `chunks`
  std::vector<Hdf5Chunk> chunks;          ///< has_chunks: the chunk grid in C order (lclstreamer: chunk k = row k)
  std::span<const std::byte> contiguous;  ///< contiguous layout: the raw data in the message
  bool has_contiguous = false;
  /// Values libhdf5 can read without touching raw storage in the image: compact (in the object
  /// header) or never-written contiguous data (fill values). Nothing else is ever H5Dread.
  bool libhdf5_may_read = false;
  std::vector<std::byte> whole;  ///< read by libhdf5 (little-endian) when `libhdf5_may_read`
  bool has_whole = false;
  std::string whole_error;  ///< why the values are not readable (no whole read is tried then)

  uint64_t elements() const;
  uint64_t row_bytes() const;    ///< bytes of one leading index
  uint64_t chunk_bytes() const;  ///< bytes of one decoded chunk (edge chunks are stored full size)
  /// Chunks along each dimension: ceil(shape / chunk_shape).
  std::vector<uint64_t> chunk_grid() const;
};

struct Hdf5Catalog {
  std::vector<Hdf5Dataset> datasets;
  const Hdf5Dataset* find(const std::string& path) const;
};

/// Opens the image (no copy, no temp file), lists datasets and their chunks, and has libhdf5 read
/// all values of the datasets it may read (`libhdf5_may_read`; size-capped by `max_bytes`).
/// Throws kTruncated / kMalformed when the image does not open.
Hdf5Catalog read_hdf5_catalog(std::span<const std::byte> message, uint64_t max_bytes);

}  // namespace peaknet::ingest
