// The C++ module tree must register exactly the upstream state_dict (keys, order, shapes, dtypes,
// parameter count) for the golden manifests; configs parse strictly. Built on the meta device: no memory.
#include <fstream>
#include <set>
#include <string>

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

// PeakNet::to's promise: convolution/linear weights and biases in the compute dtype, every other floating
// tensor fp32, the bool mask bool; with channels_last, 4-D conv weights NHWC. Which tensors are conv/linear
// is read here from the module tree itself, not from the model's own list: every weight of more than one
// dimension except GRN's gamma/beta (the BiFPN fusion weights are not named "weight"), and its bias.
std::set<std::string> conv_linear_keys(const NamedTensors& sd) {
  const auto ends_with = [](const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  std::set<std::string> all, keys;
  for (const auto& entry : sd) all.insert(entry.first);
  for (const auto& [key, t] : sd) {
    if (!ends_with(key, ".weight") || t.dim() < 2 || key.find(".grn.") != std::string::npos) continue;
    keys.insert(key);
    const std::string bias = key.substr(0, key.size() - 6) + "bias";
    if (all.count(bias) != 0) keys.insert(bias);
  }
  return keys;
}

// The conv/linear modules of the upstream network: stem, 3 downsampling convs, 3 per ConvNeXt layer,
// 4 adapters, 2 per BiFPN unit (6 units a block), the head's 3x3 convs (1+1+2+3), segmask [, upsample].
int64_t upstream_conv_linear_modules(const PeakNetConfig& c) {
  int64_t layers = 0;
  for (const int64_t d : c.backbone_depths) layers += d;
  return 1 + 3 + 3 * layers + 4 + 12 * c.bifpn_num_blocks + 7 + 1 + (c.uses_learned_upsample ? 1 : 0);
}

void expect_to_casts_as_promised(const PeakNetConfig& config, Precision precision, bool channels_last) {
  const std::string what = to_string(precision) + (channels_last ? " channels_last" : "") +
                           (config.uses_learned_upsample ? " learned upsample" : "");
  PeakNet net(config, torch::kCPU);
  net.random_init(7);
  const std::set<std::string> low_keys = conv_linear_keys(net.state_dict());
  int64_t weights = 0;
  for (const auto& key : low_keys) weights += key.size() > 7 && key.compare(key.size() - 7, 7, ".weight") == 0;
  ASSERT_EQ(weights, upstream_conv_linear_modules(config)) << what;

  net.to(torch::kCPU, precision, channels_last);
  const torch::ScalarType low = compute_dtype(precision);
  for (const auto& [key, t] : net.state_dict()) {
    if (key.find("w_q_mask") != std::string::npos) {
      EXPECT_EQ(t.scalar_type(), torch::kBool) << key << " (" << what << ")";
    } else if (low_keys.count(key) != 0) {
      EXPECT_EQ(t.scalar_type(), low) << key << " (" << what << ")";
      if (channels_last && t.dim() == 4) {
        EXPECT_TRUE(t.is_contiguous(at::MemoryFormat::ChannelsLast)) << key << " (" << what << ")";
      }
    } else {
      EXPECT_EQ(t.scalar_type(), torch::kFloat) << key << " (" << what << ")";
    }
  }
}

TEST(ModelPrecision, ToCastsEveryConvAndLinearAndNothingElse) {
  PeakNetConfig learned = PeakNetConfig::tiny();
  learned.uses_learned_upsample = true;
  for (const PeakNetConfig& config : {PeakNetConfig::tiny(), learned})
    for (const Precision precision : {Precision::kBf16, Precision::kFp16, Precision::kFp32})
      for (const bool channels_last : {false, true}) expect_to_casts_as_promised(config, precision, channels_last);
}

TEST(ModelPrecision, FusedKernelsSwitchIsOffByDefaultAndToggles) {
  PeakNet net(PeakNetConfig::tiny(), torch::kMeta);
  EXPECT_FALSE(net.fused_kernels());
  net.set_fused_kernels(true);
  EXPECT_TRUE(net.fused_kernels());
  net.set_fused_kernels(false);
  EXPECT_FALSE(net.fused_kernels());
}

}  // namespace
}  // namespace peaknet::model
