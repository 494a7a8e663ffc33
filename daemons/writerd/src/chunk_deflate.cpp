#include "writerd/chunk_deflate.hpp"

#include <zlib.h>

#include <stdexcept>
#include <string>

namespace peaknet::writerd {

void deflate_chunk(const void* data, size_t bytes, int level, std::vector<uint8_t>& out) {
  uLongf size = compressBound(uLong(bytes));
  out.resize(size);
  const int rc = compress2(out.data(), &size, static_cast<const Bytef*>(data), uLong(bytes), level);
  if (rc != Z_OK)
    throw std::runtime_error("zlib compress2 of a " + std::to_string(bytes) +
                             "-byte chunk failed: " + std::to_string(rc));
  out.resize(size);
}

}  // namespace peaknet::writerd
