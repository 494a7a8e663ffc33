#pragma once
// make_hdf5_image: what lclstreamer's HDF5BinarySerializer puts on the wire: a complete HDF5 file
// image (libhdf5 core driver, no backing store), each dataset chunked one event per chunk
// ((1,) + shape[1:]), intermediate groups created. Compression:
//   kNone      plain chunked datasets
//   kBitshuffleLz4  filter 32008 with cd_values {0, 4, elem_size, 0, 2}; chunks are encoded here
//              (bitshuffle + LZ4 with the filter's 12-byte header) and written with H5Dwrite_chunk,
//              so no bitshuffle plugin is needed (event chunks only).
//   kGzip      deflate level 1 by libhdf5 (any layout but contiguous)
// Layouts other than lclstreamer's (decoder tests and benchmarks: HDF5 files from other writers):
//   kTileChunks  arrays of rank >= 3 in chunks (min(2, B), 1, ..., ceil(H/3), ceil(W/2)): chunks span
//                events and split frames, edge chunks are partial; smaller arrays keep event chunks
//   kContiguous  no chunking at all (kNone only)
#include <cstdint>
#include <vector>

#include "pusher/npy_array.hpp"

namespace peaknet::pusher {

enum class Hdf5Compression { kNone, kBitshuffleLz4, kGzip };
enum class Hdf5Layout { kEventChunks, kTileChunks, kContiguous };

/// Array names are dataset paths ("/data/data"). Throws std::runtime_error naming the dataset.
std::vector<uint8_t> make_hdf5_image(const std::vector<NpyArray>& arrays, Hdf5Compression compression,
                                     Hdf5Layout layout = Hdf5Layout::kEventChunks);

/// One bitshuffle-LZ4 chunk as the HDF5 filter 32008 stores it (header included).
/// block_elems 0 = the filter's default block size.
std::vector<uint8_t> bitshuffle_lz4_encode(const uint8_t* data, size_t bytes, size_t elem_size, size_t block_elems = 0);

}  // namespace peaknet::pusher
