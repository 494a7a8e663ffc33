#pragma once
// Bounds-checked little/big-endian loads from a message span (a short read is kTruncated).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "decode_error.hpp"

namespace peaknet::ingest {

using Bytes = std::span<const std::byte>;

inline Bytes sub_span(Bytes data, uint64_t offset, uint64_t length, const char* what) {
  if (offset > data.size() || length > data.size() - offset) {
    fail(RejectReason::kTruncated, std::string(what) + ": needs bytes " + std::to_string(offset) + ".." +
                                       std::to_string(offset + length) + " of a " + std::to_string(data.size()) +
                                       "-byte buffer");
  }
  return data.subspan(offset, length);
}

template <typename T>
T load_le(Bytes data, uint64_t offset, const char* what) {
  Bytes b = sub_span(data, offset, sizeof(T), what);
  T v;
  std::memcpy(&v, b.data(), sizeof(T));
  return v;  // x86-64 / aarch64: little-endian hosts only (static_assert in dtype.hpp)
}

template <typename T>
T load_be(Bytes data, uint64_t offset, const char* what) {
  Bytes b = sub_span(data, offset, sizeof(T), what);
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | std::to_integer<uint8_t>(b[i]));
  return v;
}

inline uint64_t checked_mul(uint64_t a, uint64_t b, const char* what) {
  if (a != 0 && b > UINT64_MAX / a) fail(RejectReason::kOverSizeLimit, std::string(what) + ": size overflows 64 bits");
  return a * b;
}

}  // namespace peaknet::ingest
