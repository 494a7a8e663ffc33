#include "golden_manifest.hpp"

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "npy_header.hpp"

namespace peaknet::ingest::testing {

std::string wire_dir() { return std::string(PEAKNET_GOLDEN_DIR) + "/wire"; }

const nlohmann::json& manifest() {
  static const nlohmann::json m = [] {
    std::ifstream in(wire_dir() + "/MANIFEST.json");
    if (!in) throw std::runtime_error("cannot open " + wire_dir() + "/MANIFEST.json");
    return nlohmann::json::parse(in);
  }();
  return m;
}

const nlohmann::json& vector_entry(const std::string& file) {
  for (const auto& v : manifest()["vectors"]) {
    if (v["file"] == file) return v;
  }
  throw std::runtime_error("no manifest entry for " + file);
}

std::vector<std::string> vector_files() {
  std::vector<std::string> out;
  for (const auto& v : manifest()["vectors"]) out.push_back(v["file"]);
  return out;
}

std::vector<std::byte> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(c.size());
  if (!c.empty()) std::memcpy(out.data(), c.data(), c.size());
  return out;
}

double NpyArray::at(size_t i) const { return element_as_double(bytes.data(), dtype.dtype, i); }

NpyArray read_npy(const std::string& path) {
  const auto raw = read_bytes(path);
  const NpyHeader h = parse_npy_header(raw, path);
  NpyArray a;
  a.dtype = h.dtype;
  a.shape = h.shape;
  a.bytes.assign(raw.begin() + static_cast<ptrdiff_t>(h.header_bytes), raw.end());
  if (a.dtype.big_endian) byteswap_inplace(a.bytes.data(), a.count(), a.dtype.size());
  return a;
}

}  // namespace peaknet::ingest::testing
