// Codec building blocks: SHA-256 against FIPS 180-4 vectors, bitshuffle against a bit-by-bit
// reference transform, block streams round trip (full blocks, partial block, raw tail).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "bitshuffle.hpp"
#include "codecs.hpp"
#include "decode_error.hpp"
#include "ingest/decode/sha256.hpp"
#include "npy_header.hpp"

namespace peaknet::ingest {
namespace {

std::vector<std::byte> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> v(n);
  for (auto& b : v) b = static_cast<std::byte>(rng() & 0x0F);  // compressible, like detector data
  return v;
}

TEST(Sha256, MatchesFipsVectors) {
  auto h = [](const std::string& s) { return sha256_hex(std::as_bytes(std::span(s.data(), s.size()))); };
  EXPECT_EQ(h(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(h("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(h("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string million(1000000, 'a');
  EXPECT_EQ(h(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalUpdatesEqualOneShot) {
  const auto data = random_bytes(1000, 7);
  Sha256 sut;
  for (size_t i = 0; i < data.size(); i += 37)
    sut.update(std::span(data).subspan(i, std::min<size_t>(37, data.size() - i)));
  EXPECT_EQ(sut.hex(), sha256_hex(data));
}

// Reference: plane p = byte*8 + bit; element i's bit is bit i%8 of plane byte i/8.
std::vector<std::byte> reference_bitshuffle(const std::vector<std::byte>& in, size_t n, size_t s) {
  std::vector<std::byte> out(n * s);
  for (size_t i = 0; i < n; ++i) {
    for (size_t b = 0; b < s; ++b) {
      for (size_t k = 0; k < 8; ++k) {
        const bool bit = (std::to_integer<unsigned>(in[i * s + b]) >> k) & 1u;
        const size_t plane = b * 8 + k;
        if (bit) out[plane * (n / 8) + i / 8] |= std::byte{static_cast<uint8_t>(1u << (i % 8))};
      }
    }
  }
  return out;
}

TEST(Bitshuffle, ForwardMatchesReferenceAndInverseRestores) {
  for (size_t s : {1u, 2u, 3u, 4u, 8u}) {
    const size_t n = 256;
    const auto in = random_bytes(n * s, static_cast<uint32_t>(s));
    std::vector<std::byte> shuffled(n * s), back(n * s);
    bitshuffle_block(in.data(), shuffled.data(), n, s);
    EXPECT_EQ(shuffled, reference_bitshuffle(in, n, s)) << "elem size " << s;
    bitunshuffle_block(shuffled.data(), back.data(), n, s);
    EXPECT_EQ(back, in) << "elem size " << s;
  }
}

TEST(Bitshuffle, Lz4BlockStreamRoundTripsWithPartialBlockAndTail) {
  const size_t s = 4, n = 2 * 4096 + 3112 + 6;  // two full blocks, one partial, 6 raw elements
  const auto in = random_bytes(n * s, 11);
  const auto packed = bitshuffle_lz4_compress(in, s, 4096);
  std::vector<std::byte> out(n * s), scratch;
  bitshuffle_decode(packed, {BitshuffleCodec::kLz4, s, 4096}, n, out.data(), scratch, nullptr, "test");
  EXPECT_EQ(out, in);
}

TEST(Bitshuffle, CutStreamIsDecompressionError) {
  const size_t s = 8, n = 5000;
  const auto in = random_bytes(n * s, 3);
  auto packed = bitshuffle_lz4_compress(in, s, 4096);
  packed.resize(packed.size() / 2);
  std::vector<std::byte> out(n * s), scratch;
  try {
    bitshuffle_decode(packed, {BitshuffleCodec::kLz4, s, 4096}, n, out.data(), scratch, nullptr, "test");
    FAIL() << "accepted half a stream";
  } catch (const DecodeError& e) {
    EXPECT_EQ(e.reason(), RejectReason::kDecompression);
  }
}

TEST(Bitshuffle, Hdf5HeaderClaimingOtherSizeIsRejectedBeforeWriting) {
  std::vector<std::byte> chunk(12 + 8, std::byte{0});
  chunk[2] = std::byte{1};  // 2^40 bytes, big-endian
  std::vector<std::byte> out(64, std::byte{0x5A}), scratch;
  EXPECT_THROW(bitshuffle_decode_hdf5_chunk(chunk, BitshuffleCodec::kLz4, 4, 64, out.data(), scratch, nullptr, "test"),
               DecodeError);
  EXPECT_EQ(out[0], std::byte{0x5A});
}

TEST(ByteShuffle, UnshuffleInvertsPlanes) {
  const size_t s = 4, n = 10;
  const auto in = random_bytes(n * s + 3, 5);  // plus a partial element left as is
  std::vector<std::byte> planes(in.size()), back(in.size());
  for (size_t b = 0; b < s; ++b) {
    for (size_t i = 0; i < n; ++i) planes[b * n + i] = in[i * s + b];
  }
  std::copy(in.end() - 3, in.end(), planes.end() - 3);
  byte_unshuffle(planes.data(), back.data(), in.size(), s);
  EXPECT_EQ(back, in);
}

TEST(NpyHeader, ParsesV1AndV3HeadersTolerantly) {
  auto make = [](int major, const std::string& dict) {
    std::string h = "\x93NUMPY";
    h += static_cast<char>(major);
    h += '\0';
    const uint32_t len = static_cast<uint32_t>(dict.size());
    for (int i = 0; i < (major == 1 ? 2 : 4); ++i) h += static_cast<char>(len >> (8 * i));
    h += dict;
    std::vector<std::byte> out(h.size());
    std::memcpy(out.data(), h.data(), h.size());
    return out;
  };
  const auto a = parse_npy_header(make(1, "{'descr': '>u2', 'fortran_order': False, 'shape': (3, 1, 4, 5), }\n"), "a");
  EXPECT_TRUE(a.dtype.big_endian);
  EXPECT_EQ(a.shape, (std::vector<uint64_t>{3, 1, 4, 5}));
  const auto b = parse_npy_header(make(3, "{\"shape\": (7,), \"fortran_order\": False, \"descr\": \"<i8\"}"), "b");
  EXPECT_EQ(b.shape, (std::vector<uint64_t>{7}));
  EXPECT_EQ(b.header_bytes, 12u + 55u);
  EXPECT_THROW(parse_npy_header(make(1, "{'descr': '|O', 'fortran_order': False, 'shape': (3,), }"), "c"), DecodeError);
  EXPECT_THROW(parse_npy_header(make(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }"), "d"), DecodeError);
}

}  // namespace
}  // namespace peaknet::ingest
