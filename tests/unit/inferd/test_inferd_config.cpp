#include <gtest/gtest.h>

#include "common/config/suite_config.hpp"

using namespace peaknet::config;
using nlohmann::json;

namespace {
std::string error_of(const json& inferd) {
  try {
    parse_suite_config(json{{"inferd", inferd}});
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(InferdConfig, EmptySectionGivesDocumentedDefaults) {
  const auto sut = parse_suite_config(json::object()).inferd;
  EXPECT_EQ(sut.device, Device::kAuto);
  EXPECT_EQ(sut.batch_size, 8);
  EXPECT_EQ(sut.pipeline_slots, 3);
  EXPECT_EQ(sut.precision, Precision::kAuto);
  EXPECT_EQ(sut.pad_multiple, 32);
  EXPECT_EQ(sut.release_q1, ReleaseQ1::kAfterPublish);
  EXPECT_EQ(sut.model.backend, ModelBackend::kNative);
  EXPECT_FALSE(sut.model.fused_kernels);
  EXPECT_FALSE(sut.cudnn_benchmark);  // bit-reproducible runs unless asked
}

TEST(InferdConfig, ModelConfigIsAnObjectOrAPath) {
  auto sut = parse_suite_config(json{{"inferd", {{"model", {{"config", "/x/tiny.json"}, {"weights", "w"}}}}}});
  EXPECT_EQ(sut.inferd.model.config_path, "/x/tiny.json");
  sut =
      parse_suite_config(json{{"inferd", {{"model", {{"config", {{"bifpn_num_blocks", 2}}}, {"random_init", true}}}}}});
  EXPECT_EQ(sut.inferd.model.config["bifpn_num_blocks"], 2);
  EXPECT_TRUE(sut.inferd.model.random_init);
  sut = parse_suite_config(json{{"inferd", {{"model", {{"random_init", true}, {"fused_kernels", true}}}}}});
  EXPECT_TRUE(sut.inferd.model.fused_kernels);
  EXPECT_NE(error_of({{"model", {{"random_init", true}, {"fused_kernels", "yes"}}}})
                .find("config.inferd.model.fused_kernels"),
            std::string::npos);
  EXPECT_EQ(error_of({{"model", {{"config", 5}}}}),
            "config.inferd.model.config: must be a PeakNet config object or a file path, got 5");
}

TEST(InferdConfig, BadValuesNameTheirKey) {
  EXPECT_EQ(error_of({{"batch_size", 0}}), "config.inferd.batch_size: must be >= 1, got 0");
  EXPECT_NE(error_of({{"precision", "fp8"}}).find("config.inferd.precision"), std::string::npos);
  EXPECT_NE(error_of({{"warmup_shape", {1, 2}}}).find("config.inferd.warmup_shape: must be [C, H, W]"),
            std::string::npos);
  EXPECT_NE(error_of({{"device", "cpu"}, {"cuda_graphs", true}}).find("config.inferd.cuda_graphs"), std::string::npos);
  EXPECT_NE(error_of({{"device", "cpu"}, {"cudnn_benchmark", true}}).find("config.inferd.cudnn_benchmark"),
            std::string::npos);
  EXPECT_NE(error_of({{"model", {{"backend", "torchscript"}}}}).find("config.inferd.model.weights"), std::string::npos);
  EXPECT_EQ(error_of({{"cudnn_benchmark", 1}}).find("config.inferd.cudnn_benchmark"), 0u);
  EXPECT_TRUE(parse_suite_config(json{{"inferd", {{"cudnn_benchmark", true}}}}).inferd.cudnn_benchmark);
  EXPECT_NE(error_of({{"batch_sise", 4}}).find("config.inferd.batch_sise: unknown key"), std::string::npos);
}
