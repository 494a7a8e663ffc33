#include "zfp_chunk.hpp"

#include <cstring>
#include <string>

#include "decode_error.hpp"

#ifdef PEAKNET_HAVE_ZFP
#include <zfp.h>
#endif

namespace peaknet::ingest {

#ifdef PEAKNET_HAVE_ZFP
namespace {
struct ZfpState {
  bitstream* header = nullptr;
  bitstream* data = nullptr;
  zfp_stream* stream = nullptr;
  zfp_field* field = nullptr;
  ~ZfpState() {
    if (field) zfp_field_free(field);
    if (stream) zfp_stream_close(stream);
    if (header) stream_close(header);
    if (data) stream_close(data);
  }
};

zfp_type zfp_type_of(shm::DType t) {
  switch (t) {
    case shm::DType::kI32:
      return zfp_type_int32;
    case shm::DType::kI64:
      return zfp_type_int64;
    case shm::DType::kF32:
      return zfp_type_float;
    case shm::DType::kF64:
      return zfp_type_double;
    default:
      return zfp_type_none;
  }
}
}  // namespace

bool zfp_available() { return true; }

void zfp_decode_chunk(std::span<const std::byte> chunk, const std::vector<unsigned>& cd, WireDType dtype,
                      uint64_t expected_bytes, std::byte* dst, std::vector<std::byte>& scratch,
                      const std::string& what) {
  if (cd.size() < 2) fail(RejectReason::kDecompression, what + ": zfp filter has no stream header in cd_values");
  if (zfp_type_of(dtype.dtype) == zfp_type_none || dtype.big_endian) {
    fail(RejectReason::kUnsupportedDtype, what + ": zfp on " + numpy_descr(dtype.dtype));
  }
  // libzfp reads whole stream words: give it zero-padded, word-aligned copies.
  std::vector<uint64_t> header((cd.size() - 1) * 4 / 8 + 2, 0);
  for (size_t i = 1; i < cd.size(); ++i) {
    const uint32_t w = cd[i];
    std::memcpy(reinterpret_cast<char*>(header.data()) + (i - 1) * 4, &w, 4);
  }
  const size_t padded = (chunk.size() + 15) / 8 * 8;
  scratch.assign(padded, std::byte{0});
  std::memcpy(scratch.data(), chunk.data(), chunk.size());

  ZfpState z;
  z.header = stream_open(header.data(), header.size() * 8);
  z.stream = zfp_stream_open(z.header);
  z.field = zfp_field_alloc();
  if (!z.header || !z.stream || !z.field || zfp_read_header(z.stream, z.field, ZFP_HEADER_FULL) == 0) {
    fail(RejectReason::kDecompression, what + ": zfp stream header in cd_values is invalid");
  }
  if (zfp_field_type(z.field) != zfp_type_of(dtype.dtype)) {
    fail(RejectReason::kDecompression, what + ": zfp header type does not match the dataset type");
  }
  const size_t n = zfp_field_size(z.field, nullptr);
  if (n == 0 || n * dtype.size() != expected_bytes) {
    fail(RejectReason::kDecompression, what + ": zfp header holds " + std::to_string(n) + " values, chunk needs " +
                                           std::to_string(expected_bytes / dtype.size()));
  }
  z.data = stream_open(scratch.data(), scratch.size());
  zfp_stream_set_bit_stream(z.stream, z.data);
  zfp_stream_rewind(z.stream);
  zfp_field_set_pointer(z.field, dst);
  if (zfp_decompress(z.stream, z.field) == 0) fail(RejectReason::kDecompression, what + ": zfp decompression failed");
  if (stream_rtell(z.data) > chunk.size() * 8 + 64) {
    fail(RejectReason::kDecompression, what + ": zfp stream read past the chunk");
  }
}
#else
bool zfp_available() { return false; }
void zfp_decode_chunk(std::span<const std::byte>, const std::vector<unsigned>&, WireDType, uint64_t, std::byte*,
                      std::vector<std::byte>&, const std::string& what) {
  fail(RejectReason::kUnsupportedFilter, what + ": built without libzfp");
}
#endif

}  // namespace peaknet::ingest
