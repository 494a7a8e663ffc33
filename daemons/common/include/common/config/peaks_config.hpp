#pragma once
// Section "peaks": the peak-finding contract shared by inferd (finds) and writerd (hit rule).
#include <cstdint>

#include "common/config/config_node.hpp"

namespace peaknet::config {

struct PeaksConfig {
  int64_t max_num_peak = 2048;  ///< peaks kept per event (panel then label order); the rest counted
  int64_t min_num_peak = 10;    ///< hit = at least this many peaks
};

PeaksConfig parse_peaks_config(ConfigNode node);

}  // namespace peaknet::config
