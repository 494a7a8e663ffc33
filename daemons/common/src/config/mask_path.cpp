#include "common/config/mask_path.hpp"

#include <string>

#include "common/config/config_error.hpp"
#include "common/config/slot_sizes.hpp"
#include "common/config/suite_config.hpp"

namespace peaknet::config {

bool masks_by_host_copy(const SuiteConfig& c) { return c.writerd.write_masks && c.inferd.device != Device::kCuda; }

int64_t mask_bytes_of_q1_slot(int64_t q1_slot_bytes, uint64_t dtype_bytes) {
  return payload_bytes_of_q1_slot(q1_slot_bytes) / int64_t(dtype_bytes == 0 ? 1 : dtype_bytes);
}

void derive_mask_settings(const nlohmann::json& root, SuiteConfig& c) {
  const bool masks = c.writerd.write_masks;
  const bool given = root.is_object() && root.contains("inferd") && root["inferd"].is_object() &&
                     root["inferd"].contains("write_masks");
  if (given && c.inferd.write_masks != masks) {
    throw ConfigError("config.inferd.write_masks",
                      std::string("is ") + (c.inferd.write_masks ? "true" : "false") +
                          " but config.writerd.write_masks is " + (masks ? "true" : "false") +
                          ": inferd's masks follow writerd.write_masks; remove inferd.write_masks");
  }
  c.inferd.write_masks = masks;
}

}  // namespace peaknet::config
