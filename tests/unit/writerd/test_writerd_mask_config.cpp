// writerd.write_masks (issue 18 item 3): the one setting for PeakNet masks of hits. inferd.write_masks
// follows it (a conflicting explicit value is refused naming both keys); q2.slot_bytes derived includes
// the host mask room where masks travel as host copies (inferd.device cpu / auto), not on cuda; an
// explicit too-small q2.slot_bytes is refused naming the keys and the bytes.
#include <gtest/gtest.h>

#include "common/config/config_error.hpp"
#include "common/config/frame_path.hpp"
#include "common/config/mask_path.hpp"
#include "common/config/slot_sizes.hpp"
#include "common/config/suite_config.hpp"

namespace peaknet::config {
namespace {

std::string refusal(const nlohmann::json& root) {
  try {
    parse_suite_config(root);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(WriterdMaskConfig, OffByDefaultAndInferdFollowsWriterd) {
  const SuiteConfig off = parse_suite_config(nlohmann::json::object());
  EXPECT_FALSE(off.writerd.write_masks);
  EXPECT_FALSE(off.inferd.write_masks);
  const SuiteConfig on = parse_suite_config({{"writerd", {{"write_masks", true}}}});
  EXPECT_TRUE(on.inferd.write_masks);
  // An explicit inferd.write_masks that agrees is accepted.
  EXPECT_TRUE(parse_suite_config({{"inferd", {{"write_masks", true}}}, {"writerd", {{"write_masks", true}}}})
                  .inferd.write_masks);
}

TEST(WriterdMaskConfig, ConflictingMaskSettingsAreRefusedNamingBothKeys) {
  for (const bool inferd : {true, false}) {
    const std::string why = refusal({{"inferd", {{"write_masks", inferd}}}, {"writerd", {{"write_masks", !inferd}}}});
    EXPECT_NE(why.find("config.inferd.write_masks"), std::string::npos) << why;
    EXPECT_NE(why.find("config.writerd.write_masks"), std::string::npos) << why;
  }
}

TEST(WriterdMaskConfig, DerivedQ2SlotHoldsPeaksFrameAndHostMaskOnCpu) {
  const nlohmann::json q1 = {{"slot_bytes", 0}, {"event_shape", {2, 64, 96}}, {"event_dtype", "float32"}};
  const uint64_t pixels = 2 * 64 * 96;
  const SuiteConfig cpu = parse_suite_config({{"q1", q1},
                                              {"peaks", {{"max_num_peak", 256}}},
                                              {"inferd", {{"device", "cpu"}}},
                                              {"writerd", {{"write_masks", true}}}});
  EXPECT_TRUE(masks_by_host_copy(cpu));
  EXPECT_EQ(uint64_t(cpu.q2.slot_bytes), q2_slot_bytes_for(256, pixels * 4, pixels));
  // Without masks the same config needs only peaks + frame: the mask room is really added.
  const SuiteConfig no_masks =
      parse_suite_config({{"q1", q1}, {"peaks", {{"max_num_peak", 256}}}, {"inferd", {{"device", "cpu"}}}});
  EXPECT_EQ(uint64_t(no_masks.q2.slot_bytes), q2_slot_bytes_for(256, pixels * 4));
  EXPECT_GT(cpu.q2.slot_bytes, no_masks.q2.slot_bytes);
  // Masks only (no frames): peaks + mask.
  const SuiteConfig masks_only = parse_suite_config({{"q1", q1},
                                                     {"peaks", {{"max_num_peak", 256}}},
                                                     {"inferd", {{"device", "cpu"}}},
                                                     {"writerd", {{"write_masks", true}, {"write_frames", false}}}});
  EXPECT_EQ(uint64_t(masks_only.q2.slot_bytes), q2_slot_bytes_for(256, 0, pixels));
  // On cuda the mask stays on the GPU (CUDA IPC): no room in the slot.
  const SuiteConfig cuda = parse_suite_config({{"q1", q1},
                                               {"peaks", {{"max_num_peak", 256}}},
                                               {"inferd", {{"device", "cuda"}}},
                                               {"writerd", {{"write_masks", true}}}});
  EXPECT_FALSE(masks_by_host_copy(cuda));
  EXPECT_EQ(cuda.q2.slot_bytes, no_masks.q2.slot_bytes);
}

TEST(WriterdMaskConfig, UndeclaredEventsGetTheWorstCaseMaskOfTheQ1Slot) {
  // No event_shape: a Q1 slot of 1 MiB may carry 1 MiB - 4096 one-byte pixels.
  const SuiteConfig c = parse_suite_config({{"q1", {{"slot_bytes", 1 << 20}}}, {"writerd", {{"write_masks", true}}}});
  EXPECT_EQ(mask_bytes_of_q1_slot(1 << 20, 1), (1 << 20) - 4096);
  EXPECT_EQ(uint64_t(c.q2.slot_bytes), q2_slot_bytes_for(2048, (1 << 20) - 4096, (1 << 20) - 4096));
}

TEST(WriterdMaskConfig, AnExplicitTooSmallQ2SlotIsRefusedNamingKeysAndBytes) {
  const nlohmann::json q1 = {{"slot_bytes", 0}, {"event_shape", {1, 128, 128}}, {"event_dtype", "float32"}};
  const uint64_t frame_only = q2_slot_bytes_for(2048, 128 * 128 * 4);
  const uint64_t needed = q2_slot_bytes_for(2048, 128 * 128 * 4, 128 * 128);
  ASSERT_GT(needed, frame_only);
  // Big enough for peaks + frame, too small once the mask is added.
  const std::string why = refusal({{"q1", q1},
                                   {"q2", {{"slot_bytes", frame_only}}},
                                   {"inferd", {{"device", "cpu"}}},
                                   {"writerd", {{"write_masks", true}}}});
  EXPECT_NE(why.find("config.q2.slot_bytes"), std::string::npos) << why;
  EXPECT_NE(why.find("config.writerd.write_masks"), std::string::npos) << why;
  EXPECT_NE(why.find(std::to_string(needed)), std::string::npos) << why;
  EXPECT_NE(why.find(std::to_string(frame_only)), std::string::npos) << why;
  EXPECT_EQ(refusal({{"q1", q1},
                     {"q2", {{"slot_bytes", needed}}},
                     {"inferd", {{"device", "cpu"}}},
                     {"writerd", {{"write_masks", true}}}}),
            "");
  // The same slot is fine on cuda (device masks) and without masks.
  EXPECT_EQ(refusal({{"q1", q1},
                     {"q2", {{"slot_bytes", frame_only}}},
                     {"inferd", {{"device", "cuda"}}},
                     {"writerd", {{"write_masks", true}}}}),
            "");
  // Undeclared events, masks only: the mask message names both rings' keys and the bytes.
  const std::string masks_only = refusal({{"q1", {{"slot_bytes", 1 << 20}}},
                                          {"q2", {{"slot_bytes", 262144}}},
                                          {"writerd", {{"write_masks", true}, {"write_frames", false}}}});
  EXPECT_NE(masks_only.find("config.q2.slot_bytes"), std::string::npos) << masks_only;
  EXPECT_NE(masks_only.find("writerd.write_masks"), std::string::npos) << masks_only;
  EXPECT_NE(masks_only.find(std::to_string(q2_slot_bytes_for(2048, 0, (1 << 20) - 4096))), std::string::npos)
      << masks_only;
}

}  // namespace
}  // namespace peaknet::config
