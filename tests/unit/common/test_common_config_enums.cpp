// Enum-like config values: parsed once into enums, printed back with the same words, and a wrong
// word refused with the key and every allowed word.
#include <gtest/gtest.h>

#include "common/config/suite_config.hpp"

namespace peaknet::config {
namespace {

std::string error_of(const nlohmann::json& root) {
  try {
    parse_suite_config(root);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

template <typename E, size_t N>
void expect_round_trip(const std::array<E, N>& values) {
  for (E v : values) {
    const auto back = enum_from_string(to_string(v), values);
    ASSERT_TRUE(back.has_value()) << to_string(v);
    EXPECT_EQ(*back, v) << to_string(v);
  }
}

TEST(ConfigEnums, EveryWordParsesBackToItsValue) {
  expect_round_trip(kOverflowPolicyValues);
  expect_round_trip(kDeviceValues);
  expect_round_trip(kPrecisionValues);
  expect_round_trip(kReleaseQ1Values);
  expect_round_trip(kModelBackendValues);
  expect_round_trip(kIngestSourceValues);
  expect_round_trip(kEndpointModeValues);
  expect_round_trip(kOnErrorValues);
  expect_round_trip(kFsyncPolicyValues);
  expect_round_trip(kLogLevelValues);
}

TEST(ConfigEnums, ASectionLogLevelIsOptionalAndRunsIsNot) {
  auto sut = parse_suite_config(nlohmann::json{
      {"run", {{"log_level", "warn"}}}, {"inferd", {{"log_level", "debug"}}}, {"writerd", {{"log_level", ""}}}});
  EXPECT_EQ(sut.run.log_level, LogLevel::kWarn);
  EXPECT_EQ(sut.inferd.log_level, LogLevel::kDebug);
  EXPECT_FALSE(sut.writerd.log_level.has_value());  // "" = follow run.log_level
  EXPECT_FALSE(sut.ingestd.log_level.has_value());
  EXPECT_EQ(error_of({{"ingestd", {{"log_level", "loud"}}}}),
            "config.ingestd.log_level: must be one of {trace, debug, info, warn, error, critical, off}, got \"loud\"");
  EXPECT_EQ(error_of({{"run", {{"log_level", ""}}}}),
            "config.run.log_level: must be one of {trace, debug, info, warn, error, critical, off}, got \"\"");
}

TEST(ConfigEnums, ConfiguredWordsBecomeEnums) {
  const auto sut = parse_suite_config(nlohmann::json{
      {"q1", {{"policy", "drop_oldest"}}},
      {"q2", {{"policy", "drop_newest"}}},
      {"ingestd", {{"source", "synthetic"}, {"endpoints", {{{"url", "tcp://host:1"}, {"mode", "connect"}}}}}},
      {"inferd", {{"device", "cpu"}, {"precision", "bf16"}, {"release_q1", "after_copy"}}},
      {"writerd", {{"on_error", "drop"}, {"fsync", "none"}}}});
  EXPECT_EQ(sut.q1.policy, shm::OverflowPolicy::kDropOldest);
  EXPECT_EQ(sut.q2.policy, shm::OverflowPolicy::kDropNewest);
  EXPECT_EQ(sut.ingestd.source, IngestSource::kSynthetic);
  EXPECT_EQ(sut.ingestd.endpoints.at(0).mode, EndpointMode::kConnect);
  EXPECT_EQ(sut.inferd.device, Device::kCpu);
  EXPECT_EQ(sut.inferd.precision, Precision::kBf16);
  EXPECT_EQ(sut.inferd.release_q1, ReleaseQ1::kAfterCopy);
  EXPECT_EQ(sut.writerd.on_error, OnError::kDrop);
  EXPECT_EQ(sut.writerd.fsync, FsyncPolicy::kNone);
}

TEST(ConfigEnums, AWrongWordNamesTheKeyAndListsTheAllowedWords) {
  EXPECT_EQ(error_of({{"q1", {{"policy", "drop_all"}}}}),
            "config.q1.policy: must be one of {block, drop_oldest, drop_newest}, got \"drop_all\"");
  EXPECT_EQ(error_of({{"writerd", {{"on_error", "ignore"}}}}),
            "config.writerd.on_error: must be one of {block, drop}, got \"ignore\"");
  EXPECT_EQ(error_of({{"inferd", {{"precision", "fp8"}}}}),
            "config.inferd.precision: must be one of {auto, fp32, bf16, fp16}, got \"fp8\"");
  EXPECT_EQ(error_of({{"ingestd", {{"source", "kafka"}}}}),
            "config.ingestd.source: must be one of {zmq, synthetic, replay}, got \"kafka\"");
  EXPECT_EQ(error_of({{"inferd", {{"device", 1}}}}), "config.inferd.device: must be a string, got 1");
}

}  // namespace
}  // namespace peaknet::config
