#pragma once
// PeakNetConfig: the architecture knobs of upstream PeakNet (peaknet-pipeline-ray's model config keys).
// Everything else (patch size 4, kernel sizes, eps values, GroupNorm groups 32, base level 4) is fixed
// by the upstream code and therefore not configurable here.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace peaknet::model {

struct PeakNetConfig {
  int64_t num_channels = 1;
  int64_t num_classes = 2;
  std::vector<int64_t> backbone_hidden_sizes{96, 192, 384, 768};
  std::vector<int64_t> backbone_depths{3, 3, 9, 3};
  int64_t bifpn_num_blocks = 2;
  int64_t bifpn_num_features = 256;
  int64_t seg_out_channels = 256;
  bool uses_learned_upsample = false;
  int64_t image_size = 1920;  // informational only (upstream ignores it in the architecture)

  /// Strict: unknown keys, wrong types and invalid values throw std::invalid_argument naming the key.
  /// Missing keys keep the defaults above (the PeakNet-33M production config).
  static PeakNetConfig from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;

  /// The golden tiny config (24/48/96/192, depths 1/1/2/1, 2 BiFPN blocks of 64, head 64): CPU demo/tests.
  static PeakNetConfig tiny();
  /// The production config of peaknet-pipeline-ray (33,164,768 parameters).
  static PeakNetConfig peaknet_33m();
  /// The large config of golden/model/peaknet-673m.manifest.json (673,012,480 parameters).
  static PeakNetConfig peaknet_673m();
};

/// Throws std::invalid_argument if the config cannot describe a valid network.
void validate(const PeakNetConfig& config);

}  // namespace peaknet::model
