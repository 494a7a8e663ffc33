// The C++ module tree must register exactly the upstream state_dict (keys, order, shapes, dtypes,
// parameter count) for the golden manifests; configs parse strictly. Built on the meta device: no memory.
#include <fstream>

#include <gtest/gtest.h>

#include "model/peaknet.hpp"
#include "model_test_util.hpp"

namespace peaknet::model {
namespace {

nlohmann::ordered_json read_manifest(const std::string& name) {
  std::ifstream in(test::golden(name));
  EXPECT_TRUE(in.good()) << name;
  return nlohmann::ordered_json::parse(in);
}

std::string dtype_name(torch::ScalarType t) {
  return t == torch::kBool ? "bool" : t == torch::kFloat ? "float32" : "other";
}

void expect_matches_manifest(const std::string& name) {
  const auto manifest = read_manifest(name);
  const PeakNetConfig config = PeakNetConfig::from_json(nlohmann::json::parse(manifest["config"].dump()));
  PeakNet net(config, torch::kMeta);
  const NamedTensors sd = net.state_dict();
  const auto& expected = manifest["state_dict"];
  ASSERT_EQ(sd.size(), expected.size()) << name;
  size_t i = 0;
  for (const auto& [key, entry] : expected.items()) {
    const auto& [got_key, tensor] = sd[i++];
    ASSERT_EQ(got_key, key) << name << " entry " << i - 1;  // same order as Python's state_dict
    EXPECT_EQ(tensor.sizes().vec(), entry["shape"].get<std::vector<int64_t>>()) << key;
    EXPECT_EQ(dtype_name(tensor.scalar_type()), entry["dtype"].get<std::string>()) << key;
    EXPECT_TRUE(tensor.is_meta()) << key;
  }
  EXPECT_EQ(net.num_parameters(), manifest["num_parameters"].get<int64_t>()) << name;
}

TEST(ModelStructure, TinyManifest) { expect_matches_manifest("tiny.manifest.json"); }
TEST(ModelStructure, PeakNet33mManifest) { expect_matches_manifest("peaknet-33m.manifest.json"); }
TEST(ModelStructure, PeakNet673mManifest) { expect_matches_manifest("peaknet-673m.manifest.json"); }

TEST(ModelStructure, PresetsEqualManifestConfigs) {
  EXPECT_EQ(PeakNet(PeakNetConfig::peaknet_33m(), torch::kMeta).num_parameters(), 33164768);
  EXPECT_EQ(PeakNet(PeakNetConfig::peaknet_673m(), torch::kMeta).num_parameters(), 673012480);
  EXPECT_EQ(PeakNet(PeakNetConfig::tiny(), torch::kMeta).num_parameters(),
            read_manifest("tiny.manifest.json")["num_parameters"].get<int64_t>());
}

TEST(ModelConfig, RoundTripsThroughJson) {
  PeakNetConfig c = PeakNetConfig::peaknet_673m();
  c.num_classes = 3;
  const PeakNetConfig back = PeakNetConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
}

TEST(ModelConfig, RejectsUnknownKeysAndWrongTypesNamingTheKey) {
  const auto message = [](const nlohmann::json& j) {
    try {
      PeakNetConfig::from_json(j);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({{"bifpn_num_block", 2}}).find("bifpn_num_block"), std::string::npos);
  EXPECT_NE(message({{"bifpn_num_blocks", "2"}}).find("bifpn_num_blocks"), std::string::npos);
  EXPECT_NE(message({{"uses_learned_upsample", 1}}).find("uses_learned_upsample"), std::string::npos);
  EXPECT_NE(message({{"backbone_depths", {1, 2}}}).find("backbone_depths"), std::string::npos);
  EXPECT_NE(message({{"seg_out_channels", 48}}).find("seg_out_channels"), std::string::npos);
  EXPECT_NE(message({{"num_classes", 0}}).find("num_classes"), std::string::npos);
  EXPECT_EQ(message(nlohmann::json::object()), "no error");
}

TEST(ModelConfig, ParsesPrecisionNames) {
  EXPECT_EQ(parse_precision("bf16"), Precision::kBf16);
  EXPECT_EQ(parse_precision("float16"), Precision::kFp16);
  EXPECT_EQ(parse_precision("fp32"), Precision::kFp32);
  EXPECT_THROW(parse_precision("int8"), std::invalid_argument);
}

}  // namespace
}  // namespace peaknet::model
