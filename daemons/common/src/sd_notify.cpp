#include "common/sd_notify.hpp"

#include <systemd/sd-daemon.h>

namespace peaknet::common {

bool sd_notify_send(const std::string& state) {
  // unset_environment=0: children (none) and later calls keep NOTIFY_SOCKET.
  return ::sd_notify(0, state.c_str()) > 0;
}

std::chrono::microseconds sd_watchdog_period() {
  uint64_t usec = 0;
  if (::sd_watchdog_enabled(0, &usec) > 0) return std::chrono::microseconds(usec);
  return std::chrono::microseconds(0);
}

}  // namespace peaknet::common
