// Slot sizes that fit the data (issue 16 item 6): q1/q2 slot_bytes 0 are computed from the declared
// event, a too small slot is refused at config load naming the keys and the size needed, and the
// shipped GPU node config holds the events it is meant for.
#include <gtest/gtest.h>

#include "common/config/config_error.hpp"
#include "common/config/slot_sizes.hpp"
#include "common/config/suite_config.hpp"

using namespace peaknet::config;

namespace {

/// The ConfigError message of parsing `j`, or "" when it parsed.
std::string refusal(const nlohmann::json& j) {
  try {
    parse_suite_config(j);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(SlotSizes, AQ1SlotIsOnePageOfHeaderPlusThePixelsRoundedToAPage) {
  EXPECT_EQ(q1_slot_bytes_for({1, 1920, 1920}, "float64"), 4096u + 1920u * 1920u * 8u);  // already page aligned
  EXPECT_EQ(q1_slot_bytes_for({16, 512, 512}, "float32"), 4096u + 16u * 512u * 512u * 4u);
  EXPECT_EQ(q1_slot_bytes_for({1, 3, 5}, "uint16"), 8192u);
  EXPECT_EQ(dtype_bytes("float16"), 0u);
}

TEST(SlotSizes, AutoSizesFollowTheDeclaredEventAndThePeaks) {
  const auto c =
      parse_suite_config({{"q1", {{"slot_bytes", 0}, {"event_shape", {1, 1920, 1920}}, {"event_dtype", "float64"}}},
                          {"q2", {{"slot_bytes", 0}}},
                          {"peaks", {{"max_num_peak", 2048}}}});
  EXPECT_EQ(c.q1.slot_bytes, int64_t(q1_slot_bytes_for({1, 1920, 1920}, "float64")));
  EXPECT_GE(c.q2.slot_bytes, 512 + 2048 * 40);
  EXPECT_EQ(c.q2.slot_bytes % 4096, 0);
  // With frames in Q2, the frame is added behind the peaks.
  const auto f = parse_suite_config({{"q1", {{"slot_bytes", 0}, {"event_shape", {1, 64, 64}}}},
                                     {"q2", {{"slot_bytes", 0}}},
                                     {"inferd", {{"write_frames", true}}}});
  EXPECT_GE(f.q2.slot_bytes, 512 + 2048 * 40 + 64 * 64 * 4);
}

TEST(SlotSizes, ATooSmallQ1SlotIsRefusedNamingTheKeysAndTheSizeNeeded) {
  // The shipped gpu-node.json of issue 16: 15 MiB slots for 1920^2 float64 frames (100 % dropped).
  const std::string why =
      refusal({{"q1", {{"slot_bytes", 15728640}, {"event_shape", {1, 1920, 1920}}, {"event_dtype", "float64"}}}});
  EXPECT_NE(why.find("config.q1.slot_bytes"), std::string::npos) << why;
  EXPECT_NE(why.find("event_shape"), std::string::npos) << why;
  EXPECT_NE(why.find(std::to_string(q1_slot_bytes_for({1, 1920, 1920}, "float64"))), std::string::npos) << why;
  EXPECT_EQ(refusal({{"q1", {{"slot_bytes", 29495296}, {"event_shape", {1, 1920, 1920}}, {"event_dtype", "float64"}}}}),
            "");
}

TEST(SlotSizes, AutoWithoutADeclaredEventAndBadShapesAreRefused) {
  EXPECT_NE(refusal({{"q1", {{"slot_bytes", 0}}}}).find("q1.event_shape"), std::string::npos);
  EXPECT_NE(refusal({{"q1", {{"event_shape", {1920, 1920}}}}}).find("[C, H, W]"), std::string::npos);
  EXPECT_NE(refusal({{"q1", {{"event_dtype", "float16"}}}}).find("config.q1.event_dtype"), std::string::npos);
  EXPECT_NE(refusal({{"q2", {{"event_shape", {1, 2, 3}}}}}).find("config.q2.event_shape"), std::string::npos);
}

TEST(SlotSizes, SyntheticFramesMustFitQ1) {
  const std::string why = refusal({{"q1", {{"slot_bytes", 65536}}},
                                   {"ingestd", {{"source", "synthetic"}, {"synthetic", {{"shape", {1, 256, 256}}}}}}});
  EXPECT_NE(why.find("config.ingestd.synthetic.shape"), std::string::npos) << why;
  EXPECT_NE(why.find(std::to_string(4096 + 256 * 256 * 4)), std::string::npos) << why;
}

TEST(SlotSizes, FramesInQ2MustFitWhenTheEventIsDeclared) {
  const std::string why = refusal({{"q1", {{"event_shape", {1, 512, 512}}}},
                                   {"q2", {{"slot_bytes", 262144}}},
                                   {"inferd", {{"write_frames", true}}}});
  EXPECT_NE(why.find("config.q2.slot_bytes"), std::string::npos) << why;
  EXPECT_NE(why.find("config.inferd.write_frames"), std::string::npos) << why;
}

// configs/gpu-node.json: psana1 epix10k2M frames (1920^2 float64), merged 16x512^2 float32 events and
// 1920^2 float32 frames all fit Q1; 1000-event files fit the Q2 slots writerd may hold (q2.slots / 2).
TEST(SlotSizes, TheGpuNodeConfigHoldsItsEvents) {
  const auto c = load_suite_config(PEAKNET_SOURCE_DIR "/configs/gpu-node.json");
  for (const auto& [shape, dtype] : std::vector<std::pair<std::vector<int64_t>, std::string>>{
           {{1, 1920, 1920}, "float64"}, {{16, 512, 512}, "float32"}, {{1, 1920, 1920}, "float32"}}) {
    EXPECT_GE(uint64_t(c.q1.slot_bytes), q1_slot_bytes_for(shape, dtype)) << dtype;
  }
  EXPECT_GE(uint64_t(c.q2.slot_bytes), q2_slot_bytes_for(uint64_t(c.peaks.max_num_peak), 0));
  EXPECT_LE(c.writerd.events_per_file, c.q2.slots / 2) << "writerd would warn and cap its files";
}
