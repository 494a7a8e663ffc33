// The "writerd" config section: defaults, ranges, pattern rules, unknown keys.
#include <gtest/gtest.h>

#include "common/config/suite_config.hpp"

namespace peaknet::config {
namespace {

TEST(WriterdConfig, DefaultsRunAnywhere) {
  const SuiteConfig sut = parse_suite_config(nlohmann::json::object());
  EXPECT_EQ(sut.writerd.output_dir, "cxi_output");
  EXPECT_EQ(sut.writerd.events_per_file, 100);
  EXPECT_EQ(sut.writerd.on_error, "block");
  EXPECT_EQ(sut.writerd.fsync, "file");
  EXPECT_FALSE(sut.writerd.write_frames);
  EXPECT_TRUE(sut.writerd.geometry.empty());
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
