#include "cbor.hpp"

#include <cmath>
#include <cstring>
#include <string>

#include "decode_error.hpp"

namespace peaknet::ingest {
namespace {

constexpr int kMaxDepth = 16;

class Reader {
 public:
  explicit Reader(std::span<const std::byte> in) : in_(in) {}

  CborValue item(int depth) {
    if (depth > kMaxDepth) fail(RejectReason::kMalformed, "cbor: nesting deeper than 16");
    const uint8_t ib = byte();
    const uint8_t major = ib >> 5;
    const uint8_t info = ib & 0x1F;
    CborValue v;
    if (major == 7) return simple(info);
    if (info == 31) return indefinite(major, depth);
    const uint64_t arg = argument(info);
    switch (major) {
      case 0:
        v.type = CborValue::Type::kUInt;
        v.uint = arg;
        break;
      case 1:
        v.type = CborValue::Type::kNegInt;
        v.uint = arg;
        break;
      case 2:
      case 3:
        v.type = major == 2 ? CborValue::Type::kBytes : CborValue::Type::kText;
        v.bytes = take(arg);
        break;
      case 4:
      case 5: {
        v.type = major == 4 ? CborValue::Type::kArray : CborValue::Type::kMap;
        const uint64_t n = major == 5 ? arg * 2 : arg;
        if (arg > remaining() || n > remaining())
          fail(RejectReason::kTruncated, "cbor: container of " + std::to_string(arg) + " items runs past the end");
        v.items.reserve(n);
        for (uint64_t i = 0; i < n; ++i) v.items.push_back(item(depth + 1));
        break;
      }
      case 6:
        return item(depth + 1);  // tag: keep the tagged value
    }
    return v;
  }

  uint64_t remaining() const { return in_.size() - pos_; }

 private:
  uint8_t byte() {
    if (pos_ >= in_.size()) fail(RejectReason::kTruncated, "cbor: message ends inside an item");
    return std::to_integer<uint8_t>(in_[pos_++]);
  }
  std::span<const std::byte> take(uint64_t n) {
    if (n > remaining())
      fail(RejectReason::kTruncated, "cbor: string of " + std::to_string(n) + " bytes runs past the end");
    auto s = in_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  uint64_t big_endian(int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | byte();
    return v;
  }
  uint64_t argument(uint8_t info) {
    if (info < 24) return info;
    if (info == 24) return big_endian(1);
    if (info == 25) return big_endian(2);
    if (info == 26) return big_endian(4);
    if (info == 27) return big_endian(8);
    fail(RejectReason::kMalformed, "cbor: reserved additional information " + std::to_string(info));
  }
  CborValue simple(uint8_t info) {
    CborValue v;
    switch (info) {
      case 20:
      case 21:
        v.type = CborValue::Type::kBool;
        v.boolean = info == 21;
        return v;
      case 22:
        v.type = CborValue::Type::kNull;
        return v;
      case 23:
        v.type = CborValue::Type::kUndefined;
        return v;
      case 25: {
        const auto h = static_cast<uint16_t>(big_endian(2));
        const int exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
        double d = exp == 0    ? std::ldexp(mant, -24)
                   : exp != 31 ? std::ldexp(mant + 1024, exp - 25)
                               : (mant == 0 ? INFINITY : NAN);
        v.type = CborValue::Type::kFloat;
        v.number = (h & 0x8000) ? -d : d;
        return v;
      }
      case 26: {
        const auto bits = static_cast<uint32_t>(big_endian(4));
        float f;
        std::memcpy(&f, &bits, 4);
        v.type = CborValue::Type::kFloat;
        v.number = f;
        return v;
      }
      case 27: {
        const uint64_t bits = big_endian(8);
        std::memcpy(&v.number, &bits, 8);
        v.type = CborValue::Type::kFloat;
        return v;
      }
      default:
        if (info < 20) {  // unassigned simple values: treat as undefined
          v.type = CborValue::Type::kUndefined;
          return v;
        }
        fail(RejectReason::kMalformed, "cbor: unsupported simple value " + std::to_string(info));
    }
  }
  CborValue indefinite(uint8_t major, int depth) {
    if (major != 4 && major != 5) fail(RejectReason::kMalformed, "cbor: indefinite-length strings are not supported");
    CborValue v;
    v.type = major == 4 ? CborValue::Type::kArray : CborValue::Type::kMap;
    while (true) {
      if (pos_ >= in_.size()) fail(RejectReason::kTruncated, "cbor: indefinite container without break");
      if (std::to_integer<uint8_t>(in_[pos_]) == 0xFF) {
        ++pos_;
        break;
      }
      v.items.push_back(item(depth + 1));
      if (major == 5) v.items.push_back(item(depth + 1));
    }
    return v;
  }

  std::span<const std::byte> in_;
  uint64_t pos_ = 0;
};

}  // namespace

const CborValue* CborValue::get(std::string_view key) const {
  if (type != Type::kMap) return nullptr;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    if (items[i].type == Type::kText && items[i].text() == key) return &items[i + 1];
  }
  return nullptr;
}

double CborValue::as_double() const {
  switch (type) {
    case Type::kUInt:
      return static_cast<double>(uint);
    case Type::kNegInt:
      return -1.0 - static_cast<double>(uint);
    case Type::kFloat:
      return number;
    default:
      return NAN;
  }
}

CborValue parse_cbor(std::span<const std::byte> in) {
  Reader r(in);
  CborValue v = r.item(0);
  if (r.remaining() != 0)
    fail(RejectReason::kMalformed, "cbor: " + std::to_string(r.remaining()) + " bytes after the item");
  return v;
}

}  // namespace peaknet::ingest
