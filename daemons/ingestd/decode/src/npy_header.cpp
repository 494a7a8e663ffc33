#include "npy_header.hpp"

#include <cstring>
#include <string_view>

#include "byte_io.hpp"

namespace peaknet::ingest {
namespace {
constexpr uint64_t kMaxDict = 1u << 20;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// Value text following 'key': in the dict (up to the next top-level comma or closing brace).
std::string_view dict_value(std::string_view dict, std::string_view key, const std::string& name) {
  for (char q : {'\'', '"'}) {
    const std::string quoted = std::string(1, q) + std::string(key) + q;
    const size_t k = dict.find(quoted);
    if (k == std::string_view::npos) continue;
    size_t p = dict.find(':', k + quoted.size());
    if (p == std::string_view::npos) break;
    ++p;
    int depth = 0;
    char in_quote = 0;
    size_t end = p;
    for (; end < dict.size(); ++end) {
      const char c = dict[end];
      if (in_quote) {
        if (c == in_quote) in_quote = 0;
        continue;
      }
      if (c == '\'' || c == '"') in_quote = c;
      else if (c == '(' || c == '[' || c == '{') ++depth;
      else if (c == ')' || c == ']' || c == '}') {
        if (depth == 0) break;
        --depth;
      } else if (c == ',' && depth == 0) break;
    }
    return trim(dict.substr(p, end - p));
  }
  fail(RejectReason::kMalformed, name + ": .npy header has no '" + std::string(key) + "'");
}
}  // namespace

uint64_t NpyHeader::data_bytes() const {
  uint64_t n = dtype.size();
  for (uint64_t d : shape) n = checked_mul(n, d, "npy shape");
  return n;
}

uint64_t npy_prefix_bytes(Bytes first, const std::string& name) {
  Bytes magic = sub_span(first, 0, 8, (name + " .npy magic").c_str());
  if (std::memcmp(magic.data(), "\x93NUMPY", 6) != 0)
    fail(RejectReason::kMalformed, name + ": not a .npy array (bad magic)");
  const auto major = std::to_integer<uint8_t>(magic[6]);
  if (major == 1) return 10;
  if (major == 2 || major == 3) return 12;
  fail(RejectReason::kMalformed, name + ": unknown .npy version " + std::to_string(major));
}

uint64_t npy_header_total_bytes(Bytes prefix, const std::string& name) {
  const uint64_t p = npy_prefix_bytes(prefix, name);
  const uint64_t dict =
      p == 10 ? load_le<uint16_t>(prefix, 8, name.c_str()) : load_le<uint32_t>(prefix, 8, name.c_str());
  if (dict > kMaxDict) fail(RejectReason::kMalformed, name + ": .npy header of " + std::to_string(dict) + " bytes");
  return p + dict;
}

NpyHeader parse_npy_header(Bytes header, const std::string& name) {
  NpyHeader h;
  h.header_bytes = npy_header_total_bytes(header, name);
  const uint64_t p = npy_prefix_bytes(header, name);
  Bytes dict_bytes = sub_span(header, p, h.header_bytes - p, (name + " .npy header").c_str());
  std::string_view dict(reinterpret_cast<const char*>(dict_bytes.data()), dict_bytes.size());

  std::string_view descr = dict_value(dict, "descr", name);
  if (descr.size() < 2 || (descr.front() != '\'' && descr.front() != '"') || descr.back() != descr.front()) {
    fail(RejectReason::kUnsupportedDtype, name + ": descr " + std::string(descr) + " is not a simple dtype");
  }
  descr = descr.substr(1, descr.size() - 2);
  auto t = parse_numpy_descr(descr);
  if (!t) fail(RejectReason::kUnsupportedDtype, name + ": dtype '" + std::string(descr) + "' not supported");
  h.dtype = *t;

  const std::string_view fortran = dict_value(dict, "fortran_order", name);
  if (fortran == "True") fail(RejectReason::kUnsupportedDtype, name + ": Fortran-order arrays not supported");
  if (fortran != "False") fail(RejectReason::kMalformed, name + ": fortran_order is " + std::string(fortran));

  std::string_view shape = dict_value(dict, "shape", name);
  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')')
    fail(RejectReason::kMalformed, name + ": shape " + std::string(shape));
  shape = shape.substr(1, shape.size() - 2);
  while (!(shape = trim(shape)).empty()) {
    uint64_t v = 0;
    size_t i = 0;
    while (i < shape.size() && shape[i] >= '0' && shape[i] <= '9') {
      if (v > (UINT64_MAX - 9) / 10) fail(RejectReason::kOverSizeLimit, name + ": shape dimension overflows");
      v = v * 10 + static_cast<uint64_t>(shape[i++] - '0');
    }
    if (i == 0) fail(RejectReason::kMalformed, name + ": bad shape entry");
    if (i < shape.size() && shape[i] == 'L') ++i;  // Python 2 longs
    h.shape.push_back(v);
    shape = trim(shape.substr(i));
    if (!shape.empty()) {
      if (shape.front() != ',') fail(RejectReason::kMalformed, name + ": bad shape separator");
      shape.remove_prefix(1);
    }
    if (h.shape.size() > 32) fail(RejectReason::kMalformed, name + ": too many dimensions");
  }
  (void)h.data_bytes();  // overflow check
  return h;
}

}  // namespace peaknet::ingest
