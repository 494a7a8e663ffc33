#include "common/open_ring.hpp"

#include <spdlog/spdlog.h>

#include "common/config/segment_names.hpp"

namespace peaknet::common {

shm::Ring open_ring(const config::SuiteConfig& config, const config::RingConfig& ring) {
  shm::Ring r = shm::Ring::open_or_create(config::ring_options(config, ring));
  warn_if_replaced(r);
  return r;
}

shm::Ring& warn_if_replaced(shm::Ring& ring) {
  if (!ring.replaced().empty()) spdlog::warn("{}", ring.replaced());
  return ring;
}

}  // namespace peaknet::common
