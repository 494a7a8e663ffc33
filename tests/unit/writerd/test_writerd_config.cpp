// The "writerd" config section: defaults, ranges, pattern rules, unknown keys.
#include <gtest/gtest.h>

#include "common/config/frame_path.hpp"
#include "common/config/suite_config.hpp"

namespace peaknet::config {
namespace {

TEST(WriterdConfig, DefaultsRunAnywhere) {
  const SuiteConfig sut = parse_suite_config(nlohmann::json::object());
  EXPECT_EQ(sut.writerd.output_dir, "cxi_output");
  EXPECT_EQ(sut.writerd.events_per_file, 100);
  EXPECT_EQ(sut.writerd.on_error, config::OnError::kBlock);
  EXPECT_EQ(sut.writerd.fsync, config::FsyncPolicy::kFile);
  EXPECT_TRUE(sut.writerd.write_frames);
  EXPECT_TRUE(sut.writerd.geometry.empty());
}

std::string config_error(const nlohmann::json& root) {
  try {
    parse_suite_config(root);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(WriterdConfig, FramesOfHitsByDefaultAndTheOtherStagesFollow) {
  const SuiteConfig on = parse_suite_config({{"q1", {{"slot_bytes", 1 << 20}}}});
  EXPECT_TRUE(on.inferd.write_frames);
  EXPECT_FALSE(on.inferd.frames_of_nonhits);
  // Q2 slots hold the peaks and the largest frame a Q1 slot carries.
  EXPECT_GE(on.q2.slot_bytes, 512 + 2048 * 40 + (1 << 20) - 4096);
  EXPECT_EQ(on.q2.slot_bytes % 4096, 0);
  EXPECT_EQ(on.q2.slot_bytes, q2_slot_bytes_for_frames(1 << 20, 2048));

  const SuiteConfig off = parse_suite_config({{"writerd", {{"write_frames", false}}}});
  EXPECT_FALSE(off.inferd.write_frames);
  EXPECT_EQ(off.q2.slot_bytes, 256 << 10);  // the plain default, no frame room

  const SuiteConfig all = parse_suite_config({{"writerd", {{"keep_all_events", true}}}});
  EXPECT_TRUE(all.inferd.frames_of_nonhits);  // non-hits are written, so their frames are needed
  // An explicit inferd.write_frames that agrees is accepted.
  EXPECT_TRUE(parse_suite_config({{"inferd", {{"write_frames", true}}}}).inferd.write_frames);
}

TEST(WriterdConfig, ConflictingFrameSettingsAreRefusedNamingBothKeys) {
  const std::string a = config_error({{"inferd", {{"write_frames", false}}}});
  EXPECT_NE(a.find("config.inferd.write_frames"), std::string::npos) << a;
  EXPECT_NE(a.find("writerd.write_frames"), std::string::npos) << a;
  const std::string b = config_error({{"inferd", {{"write_frames", true}}}, {"writerd", {{"write_frames", false}}}});
  EXPECT_NE(b.find("config.inferd.write_frames"), std::string::npos) << b;
  const std::string c = config_error({{"q1", {{"slot_bytes", 1 << 20}}}, {"q2", {{"slot_bytes", 262144}}}});
  EXPECT_NE(c.find("config.q2.slot_bytes"), std::string::npos) << c;
  EXPECT_NE(c.find("writerd.write_frames"), std::string::npos) << c;
  EXPECT_NE(c.find(std::to_string(q2_slot_bytes_for_frames(1 << 20, 2048))), std::string::npos) << c;
  // The same Q2 slot is fine without frames, or with a Q1 whose frames fit it.
  EXPECT_EQ(config_error({{"q1", {{"slot_bytes", 1 << 20}}},
                          {"q2", {{"slot_bytes", 262144}}},
                          {"writerd", {{"write_frames", false}}}}),
            "no error");
  EXPECT_EQ(config_error({{"q1", {{"slot_bytes", 131072}}}, {"q2", {{"slot_bytes", 262144}}}}), "no error");
}

TEST(WriterdConfig, ShippedConfigsWriteFramesOfHits) {
  for (const char* name : {"default.json", "gpu-node.json"}) {
    const SuiteConfig c = load_suite_config(std::string(PEAKNET_SOURCE_DIR) + "/configs/" + name);
    EXPECT_TRUE(c.writerd.write_frames) << name;
    EXPECT_TRUE(c.inferd.write_frames) << name;
    EXPECT_GE(c.q2.slot_bytes, q2_slot_bytes_for_frames(c.q1.slot_bytes, c.peaks.max_num_peak)) << name;
    // writerd may hold q2.slots / 2 events: a file of events_per_file rows fits that budget.
    EXPECT_LE(c.writerd.events_per_file, c.q2.slots / 2) << name;
  }
}

TEST(WriterdConfig, RejectsBadValuesNamingTheKey) {
  auto error = [](const nlohmann::json& writerd) {
    try {
      parse_suite_config({{"writerd", writerd}});
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error({{"events_per_file", 0}}).find("config.writerd.events_per_file"), std::string::npos);
  EXPECT_NE(error({{"on_error", "ignore"}}).find("config.writerd.on_error"), std::string::npos);
  EXPECT_NE(error({{"file_pattern", "run.cxi"}}).find("must contain {seq}"), std::string::npos);
  EXPECT_NE(error({{"file_pattern", "a/{seq}.cxi"}}).find("config.writerd.file_pattern"), std::string::npos);
  EXPECT_NE(error({{"output_dir", ""}}).find("config.writerd.output_dir"), std::string::npos);
  EXPECT_NE(error({{"outptu_dir", "x"}}).find("outptu_dir"), std::string::npos);
}

}  // namespace
}  // namespace peaknet::config
