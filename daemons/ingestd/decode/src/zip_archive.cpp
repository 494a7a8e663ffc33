#include "zip_archive.hpp"

#include <algorithm>

#include "byte_io.hpp"

namespace peaknet::ingest {
namespace {
constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t k32 = 0xFFFFFFFFu;

uint64_t find_eocd(Bytes m) {
  if (m.size() < 22)
    fail(RejectReason::kTruncated,
         "npz: no end-of-central-directory record (message of " + std::to_string(m.size()) + " bytes)");
  const uint64_t lowest = m.size() > 22 + 65535 ? m.size() - 22 - 65535 : 0;
  for (uint64_t pos = m.size() - 22 + 1; pos-- > lowest;) {
    if (load_le<uint32_t>(m, pos, "npz eocd") == kEocdSig) return pos;
  }
  fail(RejectReason::kTruncated, "npz: no end-of-central-directory record");
}

// zip64 extra field (id 1): the 64-bit values present are those whose 32-bit field is 0xFFFFFFFF.
void apply_zip64_extra(Bytes extra, uint64_t& uncomp, uint64_t& comp, uint64_t* offset) {
  uint64_t pos = 0;
  while (pos + 4 <= extra.size()) {
    const uint16_t id = load_le<uint16_t>(extra, pos, "zip extra");
    const uint16_t len = load_le<uint16_t>(extra, pos + 2, "zip extra");
    Bytes body = sub_span(extra, pos + 4, len, "zip extra");
    if (id == 1) {
      uint64_t k = 0;
      auto next = [&](uint64_t& v) {
        if (k + 8 <= body.size()) {
          v = load_le<uint64_t>(body, k, "zip64 extra");
          k += 8;
        }
      };
      if (uncomp == k32) next(uncomp);
      if (comp == k32) next(comp);
      if (offset && *offset == k32) next(*offset);
      return;
    }
    pos += 4 + len;
  }
}
}  // namespace

std::vector<ZipMember> read_zip_directory(Bytes m) {
  const uint64_t eocd = find_eocd(m);
  uint64_t entries = load_le<uint16_t>(m, eocd + 10, "npz eocd");
  uint64_t cd_size = load_le<uint32_t>(m, eocd + 12, "npz eocd");
  uint64_t cd_offset = load_le<uint32_t>(m, eocd + 16, "npz eocd");
  if ((entries == 0xFFFF || cd_size == k32 || cd_offset == k32) && eocd >= 20 &&
      load_le<uint32_t>(m, eocd - 20, "zip64 locator") == kZip64LocatorSig) {
    const uint64_t z = load_le<uint64_t>(m, eocd - 20 + 8, "zip64 locator");
    if (load_le<uint32_t>(m, z, "zip64 eocd") != kZip64EocdSig)
      fail(RejectReason::kMalformed, "npz: bad zip64 end-of-central-directory");
    entries = load_le<uint64_t>(m, z + 32, "zip64 eocd");
    cd_size = load_le<uint64_t>(m, z + 40, "zip64 eocd");
    cd_offset = load_le<uint64_t>(m, z + 48, "zip64 eocd");
  }
  Bytes cd = sub_span(m, cd_offset, cd_size, "npz central directory");
  if (entries > cd.size() / 46)
    fail(RejectReason::kMalformed, "npz: central directory claims " + std::to_string(entries) + " entries");
  std::vector<ZipMember> members;
  uint64_t pos = 0;
  for (uint64_t e = 0; e < entries; ++e) {
    if (load_le<uint32_t>(cd, pos, "npz central header") != kCentralSig)
      fail(RejectReason::kMalformed, "npz: bad central directory header " + std::to_string(e));
    ZipMember z;
    const uint16_t flags = load_le<uint16_t>(cd, pos + 8, "npz central header");
    z.method = load_le<uint16_t>(cd, pos + 10, "npz central header");
    z.crc32 = load_le<uint32_t>(cd, pos + 16, "npz central header");
    z.compressed_size = load_le<uint32_t>(cd, pos + 20, "npz central header");
    z.uncompressed_size = load_le<uint32_t>(cd, pos + 24, "npz central header");
    const uint16_t name_len = load_le<uint16_t>(cd, pos + 28, "npz central header");
    const uint16_t extra_len = load_le<uint16_t>(cd, pos + 30, "npz central header");
    const uint16_t comment_len = load_le<uint16_t>(cd, pos + 32, "npz central header");
    uint64_t local = load_le<uint32_t>(cd, pos + 42, "npz central header");
    Bytes name = sub_span(cd, pos + 46, name_len, "npz member name");
    z.name.assign(reinterpret_cast<const char*>(name.data()), name.size());
    apply_zip64_extra(sub_span(cd, pos + 46 + name_len, extra_len, "npz extra"), z.uncompressed_size, z.compressed_size,
                      &local);
    pos += 46ull + name_len + extra_len + comment_len;
    if (flags & 1u) fail(RejectReason::kUnsupportedFilter, "npz member " + z.name + " is encrypted");
    if (z.method != 0 && z.method != 8)
      fail(RejectReason::kUnsupportedFilter, "npz member " + z.name + " uses zip method " + std::to_string(z.method));
    // Local header: its extra may differ from the central one (zip64 on every member).
    if (load_le<uint32_t>(m, local, "npz local header") != kLocalSig)
      fail(RejectReason::kMalformed, "npz member " + z.name + ": bad local header");
    const uint16_t lname = load_le<uint16_t>(m, local + 26, "npz local header");
    const uint16_t lextra = load_le<uint16_t>(m, local + 28, "npz local header");
    if (z.compressed_size == k32 || z.uncompressed_size == k32) {
      uint64_t lu = load_le<uint32_t>(m, local + 22, "npz local header");
      uint64_t lc = load_le<uint32_t>(m, local + 18, "npz local header");
      apply_zip64_extra(sub_span(m, local + 30 + lname, lextra, "npz local extra"), lu, lc, nullptr);
      if (z.compressed_size == k32) z.compressed_size = lc;
      if (z.uncompressed_size == k32) z.uncompressed_size = lu;
    }
    if (z.method == 0 && z.compressed_size != z.uncompressed_size)
      fail(RejectReason::kMalformed, "npz member " + z.name + ": stored sizes differ");
    z.data = sub_span(m, local + 30 + lname + lextra, z.compressed_size, ("npz member " + z.name).c_str());
    members.push_back(std::move(z));
  }
  return members;
}

}  // namespace peaknet::ingest
