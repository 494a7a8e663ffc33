#pragma once
// How a daemon opens Q1/Q2: Ring::open_or_create with config::ring_options(), and a warning in the log
// when that replaced an incompatible ring (another geometry or payload layout, nobody alive using it),
// since the events queued in the old one are gone.
#include "common/config/ring_config.hpp"
#include "shm/ring.hpp"

namespace peaknet::config {
struct SuiteConfig;
}

namespace peaknet::common {

shm::Ring open_ring(const config::SuiteConfig& config, const config::RingConfig& ring);
/// Logs ring.replaced() (a warning) when it is not empty; returns the ring.
shm::Ring& warn_if_replaced(shm::Ring& ring);

}  // namespace peaknet::common
