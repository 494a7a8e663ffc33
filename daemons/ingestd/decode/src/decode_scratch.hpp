#pragma once
// Per-thread reusable state of a Decoder: scratch buffers and codec contexts (no allocation per
// message once warm).
#include <cstddef>
#include <memory>
#include <vector>

namespace peaknet::ingest {

class Inflater;
class ZstdContext;
class Hdf5ParserProcess;

struct DecodeScratch {
  DecodeScratch();
  ~DecodeScratch();
  std::vector<std::byte> a, b;   ///< filter-chain ping-pong buffers / small arrays
  std::vector<std::byte> block;  ///< one compressed block's bitshuffled bytes
  std::vector<std::byte> chunk;  ///< one decoded HDF5 chunk that does not map 1:1 onto a slot
  std::unique_ptr<Inflater> inflater;
  std::unique_ptr<ZstdContext> zstd;
  std::unique_ptr<Hdf5ParserProcess> hdf5_parser;  ///< started on the first HDF5 message (isolated mode)
};

/// Grows `v` to at least `n` bytes (never shrinks) and returns its data.
inline std::byte* ensure(std::vector<std::byte>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

}  // namespace peaknet::ingest
