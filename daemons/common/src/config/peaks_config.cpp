#include "common/config/peaks_config.hpp"

namespace peaknet::config {

PeaksConfig parse_peaks_config(ConfigNode node) {
  PeaksConfig c;
  c.max_num_peak = node.get_int("max_num_peak", c.max_num_peak, 1, 1 << 20);
  c.min_num_peak = node.get_int("min_num_peak", c.min_num_peak, 0, 1 << 20);
  node.finish();
  return c;
}

}  // namespace peaknet::config
