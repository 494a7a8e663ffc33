// The pusher's message builders checked through the production decoders: what the pusher sends in
// tests and benchmarks must decode to exactly the pattern it put in.
#include <cstring>
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

void expect_pattern_decodes(const std::vector<uint8_t>& message, const std::string& dtype) {
  ingest::Decoder decoder{ingest::DecoderOptions{}};
  MemorySink sink;
  const auto result = decoder.decode({reinterpret_cast<const std::byte*>(message.data()), message.size()}, sink);
  ASSERT_FALSE(result.reject) << ingest::to_string(*result.reject) << ": " << result.detail;
  ASSERT_EQ(sink.events.size(), 3u);
  for (uint32_t b = 0; b < 3; ++b) {
    const auto& e = sink.events[b];
    EXPECT_EQ(e.meta.channels, 2u);
    EXPECT_EQ(e.meta.height, 24u);
    EXPECT_EQ(e.meta.width, 40u);
    const uint64_t key = pusher::pattern_key(5, 9, b);
    EXPECT_EQ(e.meta.timestamp, static_cast<double>(key));
    EXPECT_TRUE(pusher::check_pattern(key, pusher::descr_for_dtype(dtype), 2 * 24 * 40,
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
