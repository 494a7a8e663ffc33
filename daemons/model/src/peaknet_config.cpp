#include "model/peaknet_config.hpp"

#include <set>
#include <stdexcept>

namespace peaknet::model {
namespace {

[[noreturn]] void fail(const std::string& key, const std::string& what) {
  throw std::invalid_argument("model config key '" + key + "': " + what);
}

int64_t read_int(const nlohmann::json& v, const std::string& key, int64_t min) {
  if (!v.is_number_integer()) fail(key, "expected an integer, got " + v.dump());
  const int64_t n = v.get<int64_t>();
  if (n < min) fail(key, "must be >= " + std::to_string(min) + ", got " + std::to_string(n));
  return n;
}

std::vector<int64_t> read_int_list(const nlohmann::json& v, const std::string& key) {
  if (!v.is_array()) fail(key, "expected a list of integers, got " + v.dump());
  std::vector<int64_t> out;
  for (const auto& e : v) out.push_back(read_int(e, key, 1));
  return out;
}

}  // namespace

PeakNetConfig PeakNetConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("model config: expected a JSON object, got " + j.dump());
  PeakNetConfig c;
  for (const auto& [key, v] : j.items()) {
    if (key == "num_channels") c.num_channels = read_int(v, key, 1);
    else if (key == "num_classes") c.num_classes = read_int(v, key, 2);
    else if (key == "backbone_hidden_sizes") c.backbone_hidden_sizes = read_int_list(v, key);
    else if (key == "backbone_depths") c.backbone_depths = read_int_list(v, key);
    else if (key == "bifpn_num_blocks") c.bifpn_num_blocks = read_int(v, key, 1);
    else if (key == "bifpn_num_features") c.bifpn_num_features = read_int(v, key, 1);
    else if (key == "seg_out_channels") c.seg_out_channels = read_int(v, key, 1);
    else if (key == "image_size") c.image_size = read_int(v, key, 32);
    else if (key == "uses_learned_upsample") {
      if (!v.is_boolean()) fail(key, "expected true or false, got " + v.dump());
      c.uses_learned_upsample = v.get<bool>();
    } else {
      fail(key,
           "unknown key (known: num_channels, num_classes, backbone_hidden_sizes, backbone_depths, "
           "bifpn_num_blocks, bifpn_num_features, seg_out_channels, uses_learned_upsample, image_size)");
    }
  }
  validate(c);
  return c;
}

nlohmann::json PeakNetConfig::to_json() const {
  return {{"num_channels", num_channels},
          {"num_classes", num_classes},
          {"backbone_hidden_sizes", backbone_hidden_sizes},
          {"backbone_depths", backbone_depths},
          {"bifpn_num_blocks", bifpn_num_blocks},
          {"bifpn_num_features", bifpn_num_features},
          {"seg_out_channels", seg_out_channels},
          {"uses_learned_upsample", uses_learned_upsample},
          {"image_size", image_size}};
}

void validate(const PeakNetConfig& c) {
  // The BiFPN and the seg head are written for exactly four pyramid levels (strides 4, 8, 16, 32).
  if (c.backbone_hidden_sizes.size() != 4)
    fail("backbone_hidden_sizes",
         "must have 4 entries (one per stage), got " + std::to_string(c.backbone_hidden_sizes.size()));
  if (c.backbone_depths.size() != 4)
    fail("backbone_depths", "must have 4 entries (one per stage), got " + std::to_string(c.backbone_depths.size()));
  if (c.seg_out_channels % 32 != 0)
    fail("seg_out_channels",
         "must be a multiple of 32 (GroupNorm with 32 groups), got " + std::to_string(c.seg_out_channels));
}

PeakNetConfig PeakNetConfig::tiny() {
  PeakNetConfig c;
  c.backbone_hidden_sizes = {24, 48, 96, 192};
  c.backbone_depths = {1, 1, 2, 1};
  c.bifpn_num_blocks = 2;
  c.bifpn_num_features = 64;
  c.seg_out_channels = 64;
  c.image_size = 256;
  return c;
}

PeakNetConfig PeakNetConfig::peaknet_33m() { return PeakNetConfig{}; }

PeakNetConfig PeakNetConfig::peaknet_673m() {
  PeakNetConfig c;
  c.backbone_hidden_sizes = {352, 704, 1408, 2816};
  c.backbone_depths = {3, 3, 27, 3};
  c.bifpn_num_blocks = 4;
  c.bifpn_num_features = 512;
  c.seg_out_channels = 256;
  c.uses_learned_upsample = true;
  return c;
}

}  // namespace peaknet::model
