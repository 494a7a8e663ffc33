#pragma once
// The states every daemon of the suite goes through, as `peakctl status`, systemd (READY=1 on the first
// kReady, STOPPING=1 on kDraining / kStopped) and the counter blocks' `state` gauge show them.
namespace peaknet::common {

/// starting -> warming (inferd) -> ready -> draining -> stopped (or failed). kStalled: was ready, but a
/// worker stage holds events without progress (ProgressMonitor); back to kReady when it moves again.
/// The values are stable: inferd publishes them as its `state` gauge.
enum class DaemonState { kStarting, kWarming, kReady, kDraining, kStopped, kFailed, kStalled };
const char* to_string(DaemonState state) noexcept;

}  // namespace peaknet::common
