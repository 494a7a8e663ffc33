#pragma once
// Minimal reader for the golden .npy files (format v1.0/2.0, C order, little endian, no pickles).
// Test helper only: throws std::runtime_error naming the file on anything it does not understand.
#include <cstdint>
#include <cstring>
#include <fstream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace peaknet::peaks::testing {

struct NpyArray {
  std::string descr;  ///< e.g. "<f4", "|u1", "<i4"
  std::vector<size_t> shape;
  std::vector<uint8_t> bytes;  ///< raw little-endian data

  size_t size() const { return std::accumulate(shape.begin(), shape.end(), size_t{1}, std::multiplies<>()); }
  template <typename T>
  std::vector<T> as() const {
    if (bytes.size() != size() * sizeof(T)) {
      throw std::runtime_error("npy: element size mismatch for descr " + descr);
    }
    std::vector<T> out(size());
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  }
};

inline NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("npy: cannot open " + path);
  char magic[8];
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw std::runtime_error("npy: bad magic in " + path);
  uint32_t header_len = 0;
  if (magic[6] == 1) {
    uint8_t len[2];
    in.read(reinterpret_cast<char*>(len), 2);
    header_len = len[0] | (len[1] << 8);
  } else {
    uint8_t len[4];
    in.read(reinterpret_cast<char*>(len), 4);
    header_len = len[0] | (len[1] << 8) | (len[2] << 16) | (static_cast<uint32_t>(len[3]) << 24);
  }
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  if (!in) throw std::runtime_error("npy: truncated header in " + path);
  if (header.find("'fortran_order': False") == std::string::npos) {
    throw std::runtime_error("npy: only C order supported: " + path);
  }
  NpyArray array;
  const size_t d = header.find("'descr': '");
  if (d == std::string::npos) throw std::runtime_error("npy: no descr in " + path);
  array.descr = header.substr(d + 10, header.find('\'', d + 10) - (d + 10));
  const size_t s = header.find("'shape': (");
  if (s == std::string::npos) throw std::runtime_error("npy: no shape in " + path);
  const std::string dims = header.substr(s + 10, header.find(')', s) - (s + 10));
  for (size_t pos = 0; pos < dims.size();) {
    const size_t comma = dims.find(',', pos);
    const std::string item = dims.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (item.find_first_not_of(' ') != std::string::npos) array.shape.push_back(std::stoull(item));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  const size_t item_bytes = std::stoul(array.descr.substr(2));
  array.bytes.resize(array.size() * item_bytes);
  in.read(reinterpret_cast<char*>(array.bytes.data()), static_cast<std::streamsize>(array.bytes.size()));
  if (!in) throw std::runtime_error("npy: truncated data in " + path);
  return array;
}

}  // namespace peaknet::peaks::testing
