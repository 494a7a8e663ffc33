#include <gtest/gtest.h>

#include "common/config/suite_config.hpp"

namespace peaknet::config {
namespace {

SuiteConfig parse(const nlohmann::json& ingestd) { return parse_suite_config({{"ingestd", ingestd}}); }

std::string error_of(const nlohmann::json& ingestd) {
  try {
    parse(ingestd);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(IngestdConfig, DefaultsGiveOneBindEndpointOnTheStreamerPort) {
  const auto sut = parse(nlohmann::json::object()).ingestd;
  ASSERT_EQ(sut.endpoints.size(), 1u);
  EXPECT_EQ(sut.endpoints[0].url, "tcp://*:12321");
  EXPECT_EQ(sut.endpoints[0].mode, EndpointMode::kBind);
  EXPECT_EQ(sut.source, config::IngestSource::kZmq);
  EXPECT_GE(sut.decode_threads, 1);
  EXPECT_EQ(sut.idle_timeout_s, 0.0);
}

TEST(IngestdConfig, ReadsEndpointsAndSyntheticSettings) {
  const auto sut =
      parse({{"endpoints",
              {{{"url", "tcp://127.0.0.1:5000"}, {"mode", "connect"}, {"rcvhwm", 3}}, {{"url", "ipc:///tmp/x.sock"}}}},
             {"source", "synthetic"},
             {"synthetic", {{"shape", {2, 16, 32}}, {"dtype", "uint16"}, {"events", 10}}}})
          .ingestd;
  ASSERT_EQ(sut.endpoints.size(), 2u);
  EXPECT_EQ(sut.endpoints[0].mode, EndpointMode::kConnect);
  EXPECT_EQ(sut.endpoints[0].rcvhwm, 3);
  EXPECT_EQ(sut.endpoints[1].rcvhwm, -1);
  EXPECT_EQ(sut.synthetic.shape, (std::vector<int64_t>{2, 16, 32}));
  EXPECT_EQ(sut.synthetic.dtype, "uint16");
  EXPECT_EQ(sut.synthetic.events, 10);
}

TEST(IngestdConfig, ErrorsNameTheKeyAndTheValue) {
  EXPECT_NE(error_of({{"endpoints", {{{"url", "localhost:5000"}}}}}).find("config.ingestd.endpoints[0].url"),
            std::string::npos);
  EXPECT_NE(error_of({{"endpoints", {{{"url", "tcp://*:1"}, {"mode", "listen"}}}}}).find("mode"), std::string::npos);
  EXPECT_NE(error_of({{"synthetic", {{"shape", {16, 16}}}}}).find("config.ingestd.synthetic.shape"), std::string::npos);
  EXPECT_NE(error_of({{"synthetic", {{"dtype", "float16"}}}}).find("dtype"), std::string::npos);
  EXPECT_NE(error_of({{"decode_threads", 0}}).find("config.ingestd.decode_threads"), std::string::npos);
  EXPECT_NE(error_of({{"source", "replay"}}).find("config.ingestd.replay.dir"), std::string::npos);
  EXPECT_NE(error_of({{"decode", 3}}).find("config.ingestd.decode"), std::string::npos);
  EXPECT_NE(error_of({{"idle_timout_s", 3}}).find("idle_timout_s"), std::string::npos);  // typo is caught
}

}  // namespace
}  // namespace peaknet::config
