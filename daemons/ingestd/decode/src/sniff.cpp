// Format sniffing by magic bytes (wire-formats.md §1.6).
#include <cstring>

#include "ingest/decode/decoder.hpp"

namespace peaknet::ingest {

const char* to_string(WireFormat format) noexcept {
  switch (format) {
    case WireFormat::kUnknown:
      return "unknown";
    case WireFormat::kNpz:
      return "npz";
    case WireFormat::kHdf5:
      return "hdf5";
    case WireFormat::kSimplonCbor:
      return "simplon-cbor";
    case WireFormat::kFastBinary:
      return "fastbinary";
  }
  return "unknown";
}

WireFormat sniff(std::span<const std::byte> m) noexcept {
  auto starts_with = [&](const char* magic, size_t n) { return m.size() >= n && std::memcmp(m.data(), magic, n) == 0; };
  if (starts_with("\x89HDF\r\n\x1a\n", 8)) return WireFormat::kHdf5;
  if (starts_with("PK\x03\x04", 4) || starts_with("PK\x05\x06", 4)) return WireFormat::kNpz;
  if (starts_with("YAPN", 4)) return WireFormat::kFastBinary;
  if (m.empty()) return WireFormat::kUnknown;
  const auto first = std::to_integer<uint8_t>(m[0]);
  // 'c' / 'm' prefix followed by a CBOR array or map (an array is a malformed Simplon message,
  // still recognisably one); a bare definite or indefinite map is the pr-51 variant.
  if ((first == 'c' || first == 'm') && m.size() >= 2) {
    const auto second = std::to_integer<uint8_t>(m[1]);
    if (second >= 0x80 && second <= 0xBF) return WireFormat::kSimplonCbor;
  }
  if (first >= 0xA0 && first <= 0xBF) return WireFormat::kSimplonCbor;
  return WireFormat::kUnknown;
}

}  // namespace peaknet::ingest
