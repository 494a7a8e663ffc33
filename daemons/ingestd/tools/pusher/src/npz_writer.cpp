#include "pusher/npz_writer.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

#include <zlib.h>

namespace peaknet::pusher {
namespace {

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(v & 0xFF);
  out.push_back(v >> 8);
}
void put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back((v >> (8 * i)) & 0xFF);
}

std::vector<uint8_t> deflate_raw(const std::vector<uint8_t>& in, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("npz: deflateInit2 failed");
  }
  std::vector<uint8_t> out(deflateBound(&zs, in.size()));
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("npz: deflate failed");
  out.resize(zs.total_out);
  return out;
}

}  // namespace

std::vector<uint8_t> make_npy(const NpyArray& array) {
  std::string shape = "(";
  for (size_t i = 0; i < array.shape.size(); ++i) {
    shape += std::to_string(array.shape[i]);
    if (array.shape.size() == 1 || i + 1 < array.shape.size()) shape += i + 1 < array.shape.size() ? ", " : ",";
  }
  shape += ")";
  std::string header = "{'descr': '" + array.descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  put16(out, static_cast<uint16_t>(header.size()));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), array.bytes.begin(), array.bytes.end());
  return out;
}

std::vector<uint8_t> make_npz(const std::vector<NpyArray>& arrays, int deflate_level) {
  std::vector<uint8_t> out, central;
  const uint16_t method = deflate_level > 0 ? 8 : 0;
  const uint16_t dos_time = 0, dos_date = (1980 - 1980) << 9 | 1 << 5 | 1;
  for (const auto& array : arrays) {
    const std::string name = array.name + ".npy";
    const std::vector<uint8_t> npy = make_npy(array);
    const uint32_t crc = static_cast<uint32_t>(crc32_z(crc32(0, nullptr, 0), npy.data(), npy.size()));
    std::vector<uint8_t> deflated;
    if (method == 8) deflated = deflate_raw(npy, deflate_level);
    const std::vector<uint8_t>& stored = method == 8 ? deflated : npy;
    if (npy.size() >= 0xFFFFFFFFull || out.size() >= 0xFFFFFFFFull) {
      throw std::runtime_error("npz member " + name + ": " + std::to_string(npy.size()) +
                               " bytes would need zip64 (not written by this tool)");
    }
    const uint32_t local_offset = static_cast<uint32_t>(out.size());
    put32(out, 0x04034b50);
    put16(out, 20);
    put16(out, 0);
    put16(out, method);
    put16(out, dos_time);
    put16(out, dos_date);
    put32(out, crc);
    put32(out, static_cast<uint32_t>(stored.size()));
    put32(out, static_cast<uint32_t>(npy.size()));
    put16(out, static_cast<uint16_t>(name.size()));
    put16(out, 0);
    out.insert(out.end(), name.begin(), name.end());
    out.insert(out.end(), stored.begin(), stored.end());

    put32(central, 0x02014b50);
    put16(central, 20);
    put16(central, 20);
    put16(central, 0);
    put16(central, method);
    put16(central, dos_time);
    put16(central, dos_date);
    put32(central, crc);
    put32(central, static_cast<uint32_t>(stored.size()));
    put32(central, static_cast<uint32_t>(npy.size()));
    put16(central, static_cast<uint16_t>(name.size()));
    put16(central, 0);  // extra
    put16(central, 0);  // comment
    put16(central, 0);  // disk
    put16(central, 0);  // internal attributes
    put32(central, 0);  // external attributes
    put32(central, local_offset);
    central.insert(central.end(), name.begin(), name.end());
  }
  const uint32_t central_offset = static_cast<uint32_t>(out.size());
  out.insert(out.end(), central.begin(), central.end());
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<uint16_t>(arrays.size()));
  put16(out, static_cast<uint16_t>(arrays.size()));
  put32(out, static_cast<uint32_t>(central.size()));
  put32(out, central_offset);
  put16(out, 0);
  return out;
}

}  // namespace peaknet::pusher
