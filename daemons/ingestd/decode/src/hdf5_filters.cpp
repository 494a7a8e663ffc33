#include "hdf5_filters.hpp"

#include <cstring>
#include <string>

#include "bitshuffle.hpp"
#include "codecs.hpp"
#include "decode_error.hpp"
#include "zfp_chunk.hpp"

namespace peaknet::ingest {
namespace {
constexpr int kDeflate = 1, kShuffle = 2, kFletcher32 = 3, kBitshuffle = 32008, kZfp = 32013;

bool known(int id) {
  return id == kDeflate || id == kShuffle || id == kFletcher32 || id == kBitshuffle || (id == kZfp && zfp_available());
}

BitshuffleCodec bitshuffle_codec(const Hdf5Filter& f, const std::string& path) {
  const unsigned c = f.cd_values.size() > 4 ? f.cd_values[4] : 0;
  if (c == 0) return BitshuffleCodec::kNone;
  if (c == 2) return BitshuffleCodec::kLz4;
  if (c == 3) return BitshuffleCodec::kZstd;
  fail(RejectReason::kUnsupportedFilter, path + ": bitshuffle compression code " + std::to_string(c));
}
}  // namespace

void check_filters_supported(const Hdf5Dataset& ds) {
  for (const auto& f : ds.filters) {
    if (!known(f.id)) {
      fail(RejectReason::kUnsupportedFilter, ds.path + " uses HDF5 filter id " + std::to_string(f.id) +
                                                 (f.id == kZfp ? " (built without libzfp)" : " (unknown)"));
    }
    if (f.id == kBitshuffle) (void)bitshuffle_codec(f, ds.path);
  }
}

std::optional<std::span<const std::byte>> raw_chunk_values(const Hdf5Dataset& ds, const Hdf5Chunk& chunk) {
  std::span<const std::byte> raw = chunk.raw;
  for (int i = static_cast<int>(ds.filters.size()) - 1; i >= 0; --i) {
    if (chunk.filter_mask & (1u << i)) continue;
    if (ds.filters[static_cast<size_t>(i)].id != kFletcher32) return std::nullopt;
    if (raw.size() < 4) return std::nullopt;  // decode_hdf5_chunk names the problem
    raw = raw.first(raw.size() - 4);
  }
  return raw;
}

void decode_hdf5_chunk(const Hdf5Dataset& ds, const Hdf5Chunk& chunk, uint64_t expected, std::byte* dst,
                       DecodeScratch& s) {
  const std::string what = ds.path + " chunk " + std::to_string(chunk.leading_index);
  const size_t elem = ds.dtype ? ds.dtype->size() : 1;
  std::span<const std::byte> cur = chunk.raw;
  int last_active = -1;
  for (int i = static_cast<int>(ds.filters.size()) - 1; i >= 0; --i) {
    if (!(chunk.filter_mask & (1u << i)) && ds.filters[static_cast<size_t>(i)].id != kFletcher32) last_active = i;
  }
  bool use_a = true;
  // Filters were applied first to last when writing: undo them last to first.
  for (int i = static_cast<int>(ds.filters.size()) - 1; i >= 0; --i) {
    if (chunk.filter_mask & (1u << i)) continue;
    const Hdf5Filter& f = ds.filters[static_cast<size_t>(i)];
    if (f.id == kFletcher32) {
      if (cur.size() < 4) fail(RejectReason::kDecompression, what + ": shorter than its checksum");
      cur = cur.first(cur.size() - 4);
      continue;
    }
    std::byte* out = i == last_active ? dst : ensure(use_a ? s.a : s.b, expected);
    use_a = !use_a;
    switch (f.id) {
      case kDeflate:
        s.inflater->start(cur, /*raw=*/false, what.c_str());
        s.inflater->read(out, expected);
        s.inflater->expect_end();
        break;
      case kShuffle: {
        if (cur.size() != expected) fail(RejectReason::kDecompression, what + ": shuffle input size mismatch");
        const size_t e = f.cd_values.empty() ? elem : f.cd_values[0];
        byte_unshuffle(cur.data(), out, expected, e == 0 ? 1 : e);
        break;
      }
      case kBitshuffle: {
        const size_t e = f.cd_values.size() > 2 && f.cd_values[2] ? f.cd_values[2] : elem;
        bitshuffle_decode_hdf5_chunk(cur, bitshuffle_codec(f, ds.path), e, expected, out, s.block, s.zstd.get(),
                                     what.c_str());
        break;
      }
      case kZfp:
        zfp_decode_chunk(cur, f.cd_values, *ds.dtype, expected, out, s.block, what);
        break;
      default:
        fail(RejectReason::kUnsupportedFilter, what + ": filter id " + std::to_string(f.id));
    }
    cur = std::span<const std::byte>(out, expected);
  }
  if (cur.data() != dst) {  // no active filter (or only a checksum): raw chunk
    if (cur.size() != expected) {
      fail(RejectReason::kDecompression,
           what + ": raw chunk of " + std::to_string(cur.size()) + " bytes, expected " + std::to_string(expected));
    }
    std::memcpy(dst, cur.data(), expected);
  }
}

}  // namespace peaknet::ingest
