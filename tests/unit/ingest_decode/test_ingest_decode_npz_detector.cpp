// lclstreamer's own demo pipeline names the npz members after the detector ("epix10k2M.image" +
// "epix10k2M.image_original_shape"). Without a "detector_data" member the decoder takes the one such
// pair by itself (docs/decoders.md), refuses two naming both, and leaves configured keys alone.
// Messages are real npz bytes (stored and deflated) from the pusher's writer.
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ingest/decode/decoder.hpp"
#include "ingest/decode/memory_sink.hpp"
#include "pusher/batch_pattern.hpp"
#include "pusher/npz_writer.hpp"

namespace peaknet::ingest {
namespace {

const std::vector<uint64_t> kStored = {3, 2, 24, 40};  // B, C, H, W as sent
constexpr int32_t kOrigH = 20, kOrigW = 36;            // the detector frame inside (original shape)

/// pattern_batch(5, 9, kStored) with detector_data / detector_data_original_shape renamed after `detector`
/// ("" keeps them) and the original shape set to (B, C, kOrigH, kOrigW).
std::vector<pusher::NpyArray> batch_named(const std::string& detector) {
  auto arrays = pusher::pattern_batch(5, 9, kStored, "float32", false);
  for (auto& a : arrays) {
    if (a.name == "detector_data_original_shape") {
      const int32_t hw[2] = {kOrigH, kOrigW};
      std::memcpy(a.bytes.data() + 8, hw, sizeof hw);
      if (!detector.empty()) a.name = detector + ".image_original_shape";
    } else if (a.name == "detector_data" && !detector.empty()) {
      a.name = detector + ".image";
    }
  }
  return arrays;
}

struct Decoded {
  DecodeResult result;
  std::vector<MemorySink::Event> events;
};

Decoded decode(const std::vector<uint8_t>& message, const DecoderOptions& options = {}) {
  Decoder sut{options};
  MemorySink sink;
  Decoded out;
  out.result = sut.decode({reinterpret_cast<const std::byte*>(message.data()), message.size()}, sink);
  out.events = sink.events();
  return out;
}

void expect_pattern_with_original_shape(const Decoded& d) {
  ASSERT_FALSE(d.result.reject) << to_string(*d.result.reject) << ": " << d.result.detail;
  ASSERT_EQ(d.events.size(), kStored[0]);
  for (uint32_t b = 0; b < kStored[0]; ++b) {
    const auto& e = d.events[b];
    EXPECT_EQ(e.meta.channels, kStored[1]);
    EXPECT_EQ(e.meta.height, kStored[2]);
    EXPECT_EQ(e.meta.width, kStored[3]);
    EXPECT_EQ(e.meta.orig_height, uint32_t(kOrigH)) << "the original shape comes from the pair's member";
    EXPECT_EQ(e.meta.orig_width, uint32_t(kOrigW));
    const uint64_t key = pusher::pattern_key(5, 9, b);
    EXPECT_EQ(e.meta.timestamp, static_cast<double>(key));
    EXPECT_TRUE(pusher::check_pattern(key, "<f4", kStored[1] * kStored[2] * kStored[3],
                                      reinterpret_cast<const uint8_t*>(e.pixels.data())))
        << "event " << b;
  }
}

TEST(NpzDetectorNaming, OneDetectorImagePairIsFoundWithoutConfiguration) {
  for (const int deflate_level : {0, 6}) {
    SCOPED_TRACE(deflate_level ? "deflated" : "stored");
    const Decoded d = decode(pusher::make_npz(batch_named("epix10k2M"), deflate_level));
    expect_pattern_with_original_shape(d);
    EXPECT_EQ(d.result.detector_found, "epix10k2M.image");
  }
}

TEST(NpzDetectorNaming, DetectorDataIsStillPreferredAndNotReportedAsFound) {
  auto arrays = batch_named("");
  for (const auto& a : batch_named("jungfrau")) {
    if (a.name.starts_with("jungfrau.")) arrays.push_back(a);
  }
  const Decoded d = decode(pusher::make_npz(arrays, 0));
  expect_pattern_with_original_shape(d);
  EXPECT_EQ(d.result.detector_found, "");
}

TEST(NpzDetectorNaming, TwoPairsAreRefusedNamingBoth) {
  auto arrays = batch_named("epix10k2M");
  for (const auto& a : batch_named("jungfrau4M")) {
    if (a.name.starts_with("jungfrau4M.")) arrays.push_back(a);
  }
  const Decoded d = decode(pusher::make_npz(arrays, 0));
  ASSERT_TRUE(d.result.reject);
  EXPECT_EQ(*d.result.reject, RejectReason::kMissingField);
  EXPECT_NE(d.result.detail.find("epix10k2M.image"), std::string::npos) << d.result.detail;
  EXPECT_NE(d.result.detail.find("jungfrau4M.image"), std::string::npos) << d.result.detail;
  EXPECT_NE(d.result.detail.find("detector_key"), std::string::npos) << d.result.detail;
  EXPECT_TRUE(d.events.empty());
}

TEST(NpzDetectorNaming, AnImageWithoutItsOriginalShapeIsNotAPair) {
  auto arrays = batch_named("epix10k2M");
  std::erase_if(arrays, [](const pusher::NpyArray& a) { return a.name == "epix10k2M.image_original_shape"; });
  const Decoded d = decode(pusher::make_npz(arrays, 0));
  ASSERT_TRUE(d.result.reject);
  EXPECT_EQ(*d.result.reject, RejectReason::kMissingField);
  EXPECT_NE(d.result.detail.find("no 'detector_data' member (keys: "), std::string::npos) << d.result.detail;
}

TEST(NpzDetectorNaming, AConfiguredDetectorKeyIsNotReplacedByAPair) {
  DecoderOptions options;
  options.npz_detector_key = "cspad";
  const Decoded d = decode(pusher::make_npz(batch_named("epix10k2M"), 0), options);
  ASSERT_TRUE(d.result.reject);
  EXPECT_EQ(*d.result.reject, RejectReason::kMissingField);
  EXPECT_NE(d.result.detail.find("no 'cspad' member"), std::string::npos) << d.result.detail;
}

}  // namespace
}  // namespace peaknet::ingest
