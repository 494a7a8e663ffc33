// The pusher's message builders checked through the production decoders: what the pusher sends in
// tests and benchmarks must decode to exactly the pattern it put in. The HDF5 layouts other than
// lclstreamer's (tile chunks spanning events with partial edge chunks, contiguous) exercise the
// decoder's chunk-grid reader, which copies / decompresses outside libhdf5's lock.
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ingest/decode/decoder.hpp"
#include "pusher/batch_pattern.hpp"
#include "pusher/hdf5_image_writer.hpp"
#include "pusher/npz_writer.hpp"

namespace peaknet::ingestd {
namespace {

struct MemorySink : ingest::EventSink {
  struct Event {
    ingest::EventMeta meta;
    std::vector<std::byte> bytes;
  };
  std::vector<Event> events;
  std::byte* begin_event(const ingest::EventMeta& meta, size_t payload_bytes) override {
    events.push_back({meta, std::vector<std::byte>(payload_bytes)});
    return events.back().bytes.data();
  }
  void commit_event() override {}
  void abort_event() override { events.pop_back(); }
};

/// `message` holds pattern_batch(5, 9, bchw, dtype): every event must decode to its pattern.
void expect_pattern_decodes(const std::vector<uint8_t>& message, const std::string& dtype,
                            const std::vector<uint64_t>& bchw = {3, 2, 24, 40}) {
  ingest::Decoder decoder{ingest::DecoderOptions{}};
  MemorySink sink;
  const auto result = decoder.decode({reinterpret_cast<const std::byte*>(message.data()), message.size()}, sink);
  ASSERT_FALSE(result.reject) << ingest::to_string(*result.reject) << ": " << result.detail;
  ASSERT_EQ(sink.events.size(), bchw[0]);
  for (uint32_t b = 0; b < bchw[0]; ++b) {
    const auto& e = sink.events[b];
    EXPECT_EQ(e.meta.channels, bchw[1]);
    EXPECT_EQ(e.meta.height, bchw[2]);
    EXPECT_EQ(e.meta.width, bchw[3]);
    const uint64_t key = pusher::pattern_key(5, 9, b);
    EXPECT_EQ(e.meta.timestamp, static_cast<double>(key));
    EXPECT_TRUE(pusher::check_pattern(key, pusher::descr_for_dtype(dtype), bchw[1] * bchw[2] * bchw[3],
                                      reinterpret_cast<const uint8_t*>(e.bytes.data())))
        << "event " << b;
  }
}

TEST(PusherMessages, NpzStoredDecodesToThePattern) {
  expect_pattern_decodes(pusher::make_npz(pusher::pattern_batch(5, 9, {3, 2, 24, 40}, "float32", false), 0), "float32");
}

TEST(PusherMessages, NpzDeflateDecodesToThePattern) {
  expect_pattern_decodes(pusher::make_npz(pusher::pattern_batch(5, 9, {3, 2, 24, 40}, "uint16", false), 6), "uint16");
}

TEST(PusherMessages, Hdf5NoneDecodesToThePattern) {
  expect_pattern_decodes(pusher::make_hdf5_image(pusher::pattern_batch(5, 9, {3, 2, 24, 40}, "float32", true),
                                                 pusher::Hdf5Compression::kNone),
                         "float32");
}

TEST(PusherMessages, Hdf5BitshuffleLz4DecodesToThePattern) {
  for (const char* dtype : {"float32", "uint16", "float64"}) {
    SCOPED_TRACE(dtype);
    expect_pattern_decodes(pusher::make_hdf5_image(pusher::pattern_batch(5, 9, {3, 2, 24, 40}, dtype, true),
                                                   pusher::Hdf5Compression::kBitshuffleLz4),
                           dtype);
  }
}

// Chunks (2, 1, 9, 21) over (5, 2, 25, 41): chunks hold parts of two events and of each frame,
// and the last chunk along every dimension is partial (stored padded to the full chunk size).
TEST(PusherMessages, Hdf5TileChunksDecodeToThePattern) {
  const std::vector<uint64_t> bchw = {5, 2, 25, 41};
  for (auto compression : {pusher::Hdf5Compression::kNone, pusher::Hdf5Compression::kGzip}) {
    for (const char* dtype : {"float32", "uint16"}) {
      SCOPED_TRACE(std::string(dtype) + (compression == pusher::Hdf5Compression::kGzip ? " gzip" : " none"));
      expect_pattern_decodes(pusher::make_hdf5_image(pusher::pattern_batch(5, 9, bchw, dtype, true), compression,
                                                     pusher::Hdf5Layout::kTileChunks),
                             dtype, bchw);
    }
  }
}

TEST(PusherMessages, Hdf5ContiguousDecodesToThePattern) {
  expect_pattern_decodes(pusher::make_hdf5_image(pusher::pattern_batch(5, 9, {3, 2, 24, 40}, "float64", true),
                                                 pusher::Hdf5Compression::kNone, pusher::Hdf5Layout::kContiguous),
                         "float64");
}

// Values are copied outside libhdf5's lock, concurrently: four decode threads, one message each.
TEST(PusherMessages, Hdf5TileChunksDecodeConcurrently) {
  const std::vector<uint64_t> bchw = {5, 2, 25, 41};
  const auto message = pusher::make_hdf5_image(pusher::pattern_batch(5, 9, bchw, "float32", true),
                                               pusher::Hdf5Compression::kNone, pusher::Hdf5Layout::kTileChunks);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) expect_pattern_decodes(message, "float32", bchw);
    });
  }
  for (auto& t : threads) t.join();
}

TEST(PusherMessages, PatternCheckNoticesOneChangedPixel) {
  auto arrays = pusher::pattern_batch(1, 2, {1, 1, 8, 8}, "float32", false);
  auto& data = arrays[1];
  ASSERT_EQ(data.name, "detector_data");
  const uint64_t key = pusher::pattern_key(1, 2, 0);
  EXPECT_TRUE(pusher::check_pattern(key, "<f4", 64, data.bytes.data()));
  data.bytes[100] ^= 1;
  EXPECT_FALSE(pusher::check_pattern(key, "<f4", 64, data.bytes.data()));
  EXPECT_FALSE(pusher::check_pattern(key + 1, "<f4", 64, arrays[1].bytes.data()));
}

}  // namespace
}  // namespace peaknet::ingestd
