#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/config/suite_config.hpp"

using namespace peaknet::config;

TEST(SuiteConfig, EveryShippedConfigLoads) {
  for (const auto& entry : std::filesystem::directory_iterator(PEAKNET_SOURCE_DIR "/configs")) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW(load_suite_config(entry.path().string()));
  }
}

TEST(SuiteConfig, OverridesApplyBeforeValidation) {
  const auto sut = load_suite_config(PEAKNET_SOURCE_DIR "/configs/default.json", {"q1.slots=16"});
  EXPECT_EQ(sut.q1.slots, 16);
  EXPECT_EQ(sut.q1.name, "q1");
  EXPECT_THROW(load_suite_config(PEAKNET_SOURCE_DIR "/configs/default.json", {"q1.slots=1"}), ConfigError);
}

TEST(SuiteConfig, UnknownTopLevelSectionIsRejected) {
  try {
    parse_suite_config(nlohmann::json{{"infred", nlohmann::json::object()}});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "config.infred");
  }
}

TEST(SuiteConfig, MissingFileAndBadJsonAreClearErrors) {
  EXPECT_THROW(load_suite_config("/nonexistent/peaknet.json"), ConfigError);
  const auto path = std::filesystem::temp_directory_path() / "peaknet_bad_config.json";
  std::ofstream(path) << "{ \"q1\": ";
  EXPECT_THROW(load_suite_config(path.string()), ConfigError);
  std::filesystem::remove(path);
}

TEST(SuiteConfig, DigestChangesWithContent) {
  const auto a = load_suite_config(PEAKNET_SOURCE_DIR "/configs/default.json");
  const auto b = load_suite_config(PEAKNET_SOURCE_DIR "/configs/default.json", {"q1.slots=16"});
  EXPECT_EQ(a.digest(), load_suite_config(PEAKNET_SOURCE_DIR "/configs/default.json").digest());
  EXPECT_NE(a.digest(), b.digest());
}
