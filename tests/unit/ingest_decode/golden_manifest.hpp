#pragma once
// Access to /work/shared/golden/wire (PEAKNET_GOLDEN_DIR): MANIFEST.json, message files, .npy
// originals.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "wire_dtype.hpp"

namespace peaknet::ingest::testing {

std::string wire_dir();
const nlohmann::json& manifest();
const nlohmann::json& vector_entry(const std::string& file);
std::vector<std::string> vector_files();
std::vector<std::byte> read_bytes(const std::string& path);

struct NpyArray {
  WireDType dtype;
  std::vector<uint64_t> shape;
  std::vector<std::byte> bytes;  ///< little-endian
  double at(size_t i) const;
  size_t count() const { return bytes.size() / dtype.size(); }
};
NpyArray read_npy(const std::string& path);

}  // namespace peaknet::ingest::testing
