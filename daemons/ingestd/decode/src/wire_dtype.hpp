#pragma once
// Element types as they come over the wire: numpy descr ("<f4", ">u2", "|u1"), numpy names
// ("float64") and HDF5 types all map to shm::DType + byte order. Pixels are stored little-endian.
#include <bit>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "shm/event_layout.hpp"

namespace peaknet::ingest {

static_assert(std::endian::native == std::endian::little, "decoders assume a little-endian host");

struct WireDType {
  shm::DType dtype = shm::DType::kU8;
  bool big_endian = false;
  size_t size() const { return shm::dtype_size(dtype); }
};

/// "<f4", ">i8", "|u1", "=u2" -> dtype; nullopt for anything else ("|O", "<U8", "<f2", "|b1").
std::optional<WireDType> parse_numpy_descr(std::string_view descr);
/// "float32", "uint16", ... -> dtype (little-endian); nullopt for anything else.
std::optional<WireDType> parse_numpy_name(std::string_view name);
/// "<f4" style little-endian descr of a dtype (what inspect prints; values are stored LE).
std::string numpy_descr(shm::DType dtype);
bool is_float(shm::DType dtype);
bool is_signed(shm::DType dtype);

/// Reverses the bytes of each of `count` elements of `elem_size` bytes in place.
void byteswap_inplace(std::byte* data, size_t count, size_t elem_size);

/// Element `i` of a little-endian array as double / as exact u64 (integers only).
double element_as_double(const std::byte* data, shm::DType dtype, size_t i);
std::optional<uint64_t> element_as_u64(const std::byte* data, shm::DType dtype, size_t i);

}  // namespace peaknet::ingest
