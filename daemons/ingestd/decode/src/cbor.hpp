#pragma once
// A small strict CBOR (RFC 8949) reader for Simplon messages: byte and text strings stay views
// into the message (no copy of MB-sized compressed_data), tags are skipped, depth and counts are
// bounded by the input size. Throws kTruncated when the input ends inside an item, kMalformed else.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace peaknet::ingest {

struct CborValue {
  enum class Type : uint8_t { kUInt, kNegInt, kBytes, kText, kArray, kMap, kFloat, kBool, kNull, kUndefined };
  Type type = Type::kNull;
  uint64_t uint = 0;                 ///< kUInt; kNegInt holds -1 - value
  double number = 0;                 ///< kFloat
  bool boolean = false;              ///< kBool
  std::span<const std::byte> bytes;  ///< kBytes / kText
  std::vector<CborValue> items;      ///< kArray items; kMap key0, value0, key1, value1, ...

  std::string_view text() const { return {reinterpret_cast<const char*>(bytes.data()), bytes.size()}; }
  /// Value of a text key in a map, nullptr when absent (or not a map).
  const CborValue* get(std::string_view key) const;
  bool is_number() const { return type == Type::kUInt || type == Type::kNegInt || type == Type::kFloat; }
  double as_double() const;
};

/// Parses exactly one item spanning all of `in`.
CborValue parse_cbor(std::span<const std::byte> in);

}  // namespace peaknet::ingest
