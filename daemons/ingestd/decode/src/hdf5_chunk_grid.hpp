#pragma once
// Rows of a chunked HDF5 dataset assembled from its chunks in the message, outside libhdf5's lock,
// for any chunk shape. A chunk that is exactly whole rows of the destination (lclstreamer's
// one-event chunks) is decoded, or for unfiltered data copied, straight into it. Any other chunk
// is decoded into scratch (unfiltered: read in place) and its part copied out in contiguous runs.
#include <cstddef>
#include <cstdint>

#include "decode_scratch.hpp"
#include "hdf5_catalog.hpp"

namespace peaknet::ingest {

/// Rows [first, first + rows) along dimension 0 of `ds` (has_chunks) into dst, C order, stored byte
/// order. Throws DecodeError (kDecompression / kUnsupportedFilter) naming the dataset and chunk.
void read_chunked_rows(const Hdf5Dataset& ds, uint64_t first, uint64_t rows, std::byte* dst, DecodeScratch& scratch);

}  // namespace peaknet::ingest
