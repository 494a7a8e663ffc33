#pragma once
// NpyArray: a named, typed, C-order array as a serializer sees it (npz member / HDF5 dataset).
#include <cstdint>
#include <string>
#include <vector>

namespace peaknet::pusher {

struct NpyArray {
  std::string name;   ///< npz key ("detector_data") or HDF5 path ("/data/data")
  std::string descr;  ///< numpy descr: "<f4", "<f8", "<u2", "<i4", "<u8", "<i8"
  std::vector<uint64_t> shape;
  std::vector<uint8_t> bytes;  ///< little-endian C-order values

  size_t elem_size() const;  ///< from descr ("<f4" -> 4)
  uint64_t count() const;    ///< product of shape
};

/// "float32" -> "<f4", also "float64", "uint16", "int32", "uint64", "int64". Throws std::invalid_argument.
std::string descr_for_dtype(const std::string& dtype);

}  // namespace peaknet::pusher
