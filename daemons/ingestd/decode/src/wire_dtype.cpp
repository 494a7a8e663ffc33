#include "wire_dtype.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace peaknet::ingest {
namespace {
std::optional<shm::DType> dtype_from_kind(char kind, int size) {
  using shm::DType;
  switch (kind) {
    case 'u':
      return size == 1   ? DType::kU8
             : size == 2 ? DType::kU16
             : size == 4 ? DType::kU32
             : size == 8 ? std::optional(DType::kU64)
                         : std::nullopt;
    case 'i':
      return size == 1   ? DType::kI8
             : size == 2 ? DType::kI16
             : size == 4 ? DType::kI32
             : size == 8 ? std::optional(DType::kI64)
                         : std::nullopt;
    case 'f':
      return size == 4 ? DType::kF32 : size == 8 ? std::optional(DType::kF64) : std::nullopt;
    default:
      return std::nullopt;
  }
}
}  // namespace

std::optional<WireDType> parse_numpy_descr(std::string_view d) {
  if (d.size() < 3 || d.size() > 3) return std::nullopt;
  const char order = d[0];
  const char kind = d[1];
  if (d[2] < '1' || d[2] > '8') return std::nullopt;
  const int size = d[2] - '0';
  auto t = dtype_from_kind(kind, size);
  if (!t) return std::nullopt;
  WireDType w{*t, false};
  if (order == '>') w.big_endian = size > 1;
  else if (order != '<' && order != '|' && order != '=') return std::nullopt;
  if (order == '|' && size > 1) return std::nullopt;
  return w;
}

std::optional<WireDType> parse_numpy_name(std::string_view n) {
  using shm::DType;
  static constexpr std::pair<std::string_view, DType> kNames[] = {
      {"uint8", DType::kU8},    {"uint16", DType::kU16},  {"uint32", DType::kU32}, {"uint64", DType::kU64},
      {"int8", DType::kI8},     {"int16", DType::kI16},   {"int32", DType::kI32},  {"int64", DType::kI64},
      {"float32", DType::kF32}, {"float64", DType::kF64}, {"float", DType::kF64},  {"double", DType::kF64}};
  for (const auto& [name, t] : kNames) {
    if (n == name) return WireDType{t, false};
  }
  return parse_numpy_descr(n);
}

std::string numpy_descr(shm::DType dtype) {
  using shm::DType;
  switch (dtype) {
    case DType::kU8:
      return "|u1";
    case DType::kU16:
      return "<u2";
    case DType::kU32:
      return "<u4";
    case DType::kU64:
      return "<u8";
    case DType::kI8:
      return "|i1";
    case DType::kI16:
      return "<i2";
    case DType::kI32:
      return "<i4";
    case DType::kI64:
      return "<i8";
    case DType::kF32:
      return "<f4";
    case DType::kF64:
      return "<f8";
  }
  return "?";
}

bool is_float(shm::DType t) { return t == shm::DType::kF32 || t == shm::DType::kF64; }
bool is_signed(shm::DType t) {
  return t == shm::DType::kI8 || t == shm::DType::kI16 || t == shm::DType::kI32 || t == shm::DType::kI64;
}

void byteswap_inplace(std::byte* data, size_t count, size_t elem_size) {
  if (elem_size <= 1) return;
  for (size_t i = 0; i < count; ++i) std::reverse(data + i * elem_size, data + (i + 1) * elem_size);
}

namespace {
template <typename T>
T load(const std::byte* data, size_t i) {
  T v;
  std::memcpy(&v, data + i * sizeof(T), sizeof(T));
  return v;
}
}  // namespace

double element_as_double(const std::byte* d, shm::DType t, size_t i) {
  using shm::DType;
  switch (t) {
    case DType::kU8:
      return load<uint8_t>(d, i);
    case DType::kU16:
      return load<uint16_t>(d, i);
    case DType::kU32:
      return load<uint32_t>(d, i);
    case DType::kU64:
      return static_cast<double>(load<uint64_t>(d, i));
    case DType::kI8:
      return load<int8_t>(d, i);
    case DType::kI16:
      return load<int16_t>(d, i);
    case DType::kI32:
      return load<int32_t>(d, i);
    case DType::kI64:
      return static_cast<double>(load<int64_t>(d, i));
    case DType::kF32:
      return load<float>(d, i);
    case DType::kF64:
      return load<double>(d, i);
  }
  return 0;
}

std::optional<uint64_t> element_as_u64(const std::byte* d, shm::DType t, size_t i) {
  using shm::DType;
  switch (t) {
    case DType::kU8:
      return load<uint8_t>(d, i);
    case DType::kU16:
      return load<uint16_t>(d, i);
    case DType::kU32:
      return load<uint32_t>(d, i);
    case DType::kU64:
      return load<uint64_t>(d, i);
    case DType::kI8:
    case DType::kI16:
    case DType::kI32:
    case DType::kI64: {
      const double v = element_as_double(d, t, i);
      if (v < 0) return std::nullopt;
      return t == DType::kI64 ? static_cast<uint64_t>(load<int64_t>(d, i)) : static_cast<uint64_t>(v);
    }
    default:
      return std::nullopt;
  }
}

}  // namespace peaknet::ingest
