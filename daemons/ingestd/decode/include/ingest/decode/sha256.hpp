#pragma once
// SHA-256 (FIPS 180-4), own implementation: inspect hashes decoded arrays with it, the golden
// MANIFEST uses it for expected values. Tested against the FIPS / NIST vectors.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace peaknet::ingest {

class Sha256 {
 public:
  Sha256();
  void update(std::span<const std::byte> data);
  std::array<uint8_t, 32> finish();
  /// Lower-case hex of finish().
  std::string hex();

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buf_{};
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

std::string sha256_hex(std::span<const std::byte> data);

}  // namespace peaknet::ingest
