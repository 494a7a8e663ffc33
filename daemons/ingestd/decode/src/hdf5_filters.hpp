#pragma once
// HDF5 filter pipelines decoded by our own code, outside libhdf5's lock: deflate (1), shuffle (2),
// fletcher32 (3, checksum dropped), bitshuffle (32008: none / LZ4 / zstd), zfp (32013, libzfp
// with the stream header from cd_values). Honours each chunk's filter mask.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "decode_scratch.hpp"
#include "hdf5_catalog.hpp"

namespace peaknet::ingest {

/// kUnsupportedFilter naming the dataset and filter id when the pipeline has a filter we lack.
void check_filters_supported(const Hdf5Dataset& ds);

/// The stored bytes of a chunk that no active filter transforms (no filter, all masked, or only a
/// fletcher32 checksum, which is dropped): the values as they are, to be copied without decoding.
/// nullopt when a filter must run. Does not check the size.
std::optional<std::span<const std::byte>> raw_chunk_values(const Hdf5Dataset& ds, const Hdf5Chunk& chunk);

/// Decodes one stored chunk to exactly `expected_bytes` at `dst` (stored byte order).
void decode_hdf5_chunk(const Hdf5Dataset& ds, const Hdf5Chunk& chunk, uint64_t expected_bytes, std::byte* dst,
                       DecodeScratch& scratch);

}  // namespace peaknet::ingest
