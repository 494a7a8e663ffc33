#pragma once
// The shared-memory names of one suite instance: one rule for every daemon, peakctl and the tests.
//   ring:          "<run.name>-<ring name>"        peaknet-q1, peaknet-q2
//   counter block: "<run.name>-stats-<daemon id>"  peaknet-stats-ingestd, peaknet-stats-inferd-cpu0
// The daemon id is the control socket's ("<daemon>" or "<daemon>-<instance>", common/run_dir.hpp), so
// peakctl finds a daemon's counters from its socket name.
#include <string>

#include "common/config/ring_config.hpp"
#include "shm/ring_types.hpp"

namespace peaknet::config {

struct SuiteConfig;

/// "<run.name>-<ring.name>".
std::string segment_name(const SuiteConfig& config, const RingConfig& ring);
/// "<run.name>-stats-<daemon_id>".
std::string stats_block_name(const std::string& run_name, const std::string& daemon_id);
/// The options every daemon opens `ring` with (name, slots, slot bytes, overflow policy, block timeout,
/// group sharing, payload layout = shm::kEventLayoutVersion): whoever creates the ring first, every other
/// open_or_create attaches to the same geometry, and a daemon of another layout version is refused.
shm::RingOptions ring_options(const SuiteConfig& config, const RingConfig& ring);

}  // namespace peaknet::config
