#pragma once
// The one exception type of libshm: startup/attach failures (bad or incompatible segment, permissions,
// exhausted process table). The hot path never throws for "would block" / "ring full": those are values
// (std::nullopt, 0) plus counters.
#include <stdexcept>
#include <string>

namespace peaknet::shm {

/// Thrown by create/attach/open_or_create and by misuse (publishing a slot twice). The message names the
/// segment and what was wrong, e.g. "shm segment 'peaknet-q1': layout version 3, expected 4".
class ShmError : public std::runtime_error {
 public:
  explicit ShmError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace peaknet::shm
