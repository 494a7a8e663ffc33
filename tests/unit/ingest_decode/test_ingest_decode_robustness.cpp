// Bad input never crashes: every golden message cut at many lengths and with flipped bytes decodes
// to a result (no throw, no crash; sanitizer builds check memory). Sink drop policy and Simplon
// parking are observable in the result.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "golden_manifest.hpp"
#include "ingest/decode/decoder.hpp"
#include "ingest/decode/memory_sink.hpp"

namespace peaknet::ingest {
namespace {
using testing::read_bytes;
using testing::wire_dir;

TEST(DecoderRobustness, TruncatedAndCorruptedGoldenMessagesNeverThrow) {
  DecoderOptions options;
  options.max_decoded_bytes = 256u << 20;
  Decoder sut(options);
  MemorySink sink(false);
  MemorySink ignore(false);
  sut.decode(read_bytes(wire_dir() + "/simplon-start.cbormsg"), ignore);
  std::mt19937 rng(42);
  for (const auto& file : testing::vector_files()) {
    if (file.find("bomb") != std::string::npos) continue;  // 4 GiB inflate: covered by the limit test
    const auto original = read_bytes(wire_dir() + "/" + file);
    for (size_t cut : {size_t{0}, size_t{1}, size_t{9}, original.size() / 3, original.size() / 2,
                       original.size() * 9 / 10, original.size() > 0 ? original.size() - 1 : 0}) {
      if (cut > original.size()) continue;
      std::span<const std::byte> part(original.data(), cut);
      DecodeResult r;
      ASSERT_NO_THROW(r = sut.decode(part, sink)) << file << " cut at " << cut;
      if (cut < original.size() && r.format != WireFormat::kSimplonCbor) {
        EXPECT_TRUE(r.reject || r.events == 0) << file << " cut at " << cut << " accepted";
      }
    }
    for (int round = 0; round < 20 && !original.empty(); ++round) {
      auto damaged = original;
      for (int k = 0; k < 8; ++k) damaged[rng() % damaged.size()] ^= std::byte{static_cast<uint8_t>(1 + rng() % 255)};
      ASSERT_NO_THROW(sut.decode(damaged, sink)) << file << " round " << round;
    }
  }
  EXPECT_EQ(sink.begun(), sink.events().size() + sink.aborted() + 0 * sink.begun());
}

TEST(DecoderRobustness, FullSinkCountsDroppedEventsAndKeepsDecoding) {
  Decoder sut(DecoderOptions{});
  MemorySink sink;
  sink.refuse(true);
  const auto r = sut.decode(read_bytes(wire_dir() + "/npz-deflate.npzmsg"), sink);
  EXPECT_FALSE(r.reject) << r.detail;
  EXPECT_EQ(r.events, 0u);
  EXPECT_EQ(r.events_dropped, 3u);
}

TEST(DecoderThreads, ParallelDecodersAgreeWithSerialDecode) {
  // One Decoder per thread (as ingestd's pool): HDF5 catalogs serialise on libhdf5's lock, chunk
  // decoding runs in parallel; every thread must see exactly the serial result.
  const std::vector<std::string> files = {"hdf5-bslz4.h5msg", "hdf5-bszstd-f64.h5msg", "hdf5-gzip-shuffle.h5msg",
                                          "npz-deflate.npzmsg", "hdf5-zfp.h5msg"};
  std::vector<std::vector<std::byte>> messages;
  std::vector<size_t> expected_bytes;
  for (const auto& f : files) {
    messages.push_back(read_bytes(wire_dir() + "/" + f));
    Decoder serial(DecoderOptions{});
    MemorySink sink;
    ASSERT_FALSE(serial.decode(messages.back(), sink).reject) << f;
    size_t h = 0;
    for (const auto& e : sink.events()) {
      for (std::byte b : e.pixels) h = h * 131 + std::to_integer<size_t>(b);
    }
    expected_bytes.push_back(h);
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Decoder sut(DecoderOptions{});
      for (int round = 0; round < 20; ++round) {
        const size_t k = static_cast<size_t>(t + round) % messages.size();
        MemorySink sink;
        if (sut.decode(messages[k], sink).reject) ++mismatches;
        size_t h = 0;
        for (const auto& e : sink.events()) {
          for (std::byte b : e.pixels) h = h * 131 + std::to_integer<size_t>(b);
        }
        if (h != expected_bytes[k]) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(SimplonSessionTest, ImagesBeforeStartAreHeldAndDeliveredWithIt) {
  auto session = std::make_shared<SimplonSession>(DecoderOptions{});
  Decoder rank0(DecoderOptions{}, session), rank1(DecoderOptions{}, session);
  MemorySink sink;
  const auto image = rank0.decode(read_bytes(wire_dir() + "/simplon-image-0.cbormsg"), sink);
  EXPECT_TRUE(image.held);
  EXPECT_EQ(image.events, 0u);
  EXPECT_EQ(session->held_messages(), 1u);
  const auto start = rank1.decode(read_bytes(wire_dir() + "/simplon-start.cbormsg"), sink);
  EXPECT_FALSE(start.reject) << start.detail;
  EXPECT_EQ(start.events, 1u);
  EXPECT_EQ(session->held_messages(), 0u);
  ASSERT_EQ(sink.events().size(), 1u);
  EXPECT_EQ(sink.events()[0].meta.height, 67u);
  EXPECT_EQ(sink.events()[0].meta.width, 93u);
}

TEST(SimplonSessionTest, HoldIsBoundedAndEvictionsAreCounted) {
  DecoderOptions options;
  options.simplon_hold_max_messages = 2;
  auto session = std::make_shared<SimplonSession>(options);
  Decoder sut(options, session);
  MemorySink sink;
  const auto image = read_bytes(wire_dir() + "/simplon-image-1.cbormsg");
  uint32_t evicted = 0;
  for (int i = 0; i < 5; ++i) evicted += sut.decode(image, sink).held_evicted;
  EXPECT_EQ(evicted, 3u);
  EXPECT_EQ(session->held_messages(), 2u);
}

}  // namespace
}  // namespace peaknet::ingest
