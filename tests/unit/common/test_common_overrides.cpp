#include <gtest/gtest.h>

#include "common/config/config_error.hpp"
#include "common/config/overrides.hpp"

using nlohmann::json;
using peaknet::config::apply_override;
using peaknet::config::ConfigError;

TEST(Overrides, ParsesJsonValuesAndFallsBackToStrings) {
  json sut = json::object();
  apply_override(sut, "inferd.batch_size=8");
  apply_override(sut, "writerd.output_dir=/data/run 7");
  apply_override(sut, "writerd.keep_all=true");
  apply_override(sut, "ingestd.shape=[1,64,64]");
  EXPECT_EQ(sut["inferd"]["batch_size"], 8);
  EXPECT_EQ(sut["writerd"]["output_dir"], "/data/run 7");
  EXPECT_EQ(sut["writerd"]["keep_all"], true);
  EXPECT_EQ(sut["ingestd"]["shape"], json({1, 64, 64}));
}

TEST(Overrides, ReplacesExistingValues) {
  json sut = {{"q1", {{"slots", 4}}}};
  apply_override(sut, "q1.slots=16");
  EXPECT_EQ(sut["q1"]["slots"], 16);
}

TEST(Overrides, MalformedAssignmentsAreErrors) {
  json sut = {{"q1", 3}};
  EXPECT_THROW(apply_override(sut, "no_equals"), ConfigError);
  EXPECT_THROW(apply_override(sut, "=5"), ConfigError);
  EXPECT_THROW(apply_override(sut, "a..b=5"), ConfigError);
  EXPECT_THROW(apply_override(sut, "q1.slots=5"), ConfigError);  // q1 is not an object
}
