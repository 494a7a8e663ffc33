#pragma once
// systemd notification (sd_notify(3)) without a dependency on how the process was started: every
// call is a no-op when NOTIFY_SOCKET is unset, so daemons call it unconditionally.
#include <chrono>
#include <string>

namespace peaknet::common {

/// Sends one notification ("READY=1", "STATUS=...", "WATCHDOG=1", "STOPPING=1"). Returns true when
/// a supervisor received it, false when there is none or the send failed (never throws).
bool sd_notify_send(const std::string& state);
/// The watchdog period systemd asked for (WATCHDOG_USEC for this pid); zero when disabled.
std::chrono::microseconds sd_watchdog_period();

}  // namespace peaknet::common
