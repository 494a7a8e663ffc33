#include "common/daemon_state.hpp"

namespace peaknet::common {

const char* to_string(DaemonState state) noexcept {
  switch (state) {
    case DaemonState::kStarting:
      return "starting";
    case DaemonState::kWarming:
      return "warming";
    case DaemonState::kReady:
      return "ready";
    case DaemonState::kDraining:
      return "draining";
    case DaemonState::kStopped:
      return "stopped";
    case DaemonState::kFailed:
      return "failed";
    case DaemonState::kStalled:
      return "stalled";
  }
  return "unknown";
}

}  // namespace peaknet::common
