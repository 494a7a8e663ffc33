#pragma once
// RateMeter: how fast a running total grew since the previous reading, for the daemons' status lines
// (read once per status interval, on run()'s thread). The first reading only starts the clock (0): a
// counter block may carry totals from before this process, which are no rate of its own.
#include <chrono>
#include <optional>

namespace peaknet::common {

class RateMeter {
 public:
  using Clock = std::chrono::steady_clock;

  /// Per second of `total` since the previous call; 0 on the first call or when no time passed.
  double per_second(double total, Clock::time_point now = Clock::now()) {
    double rate = 0.0;
    if (last_t_) {
      const double dt = std::chrono::duration<double>(now - *last_t_).count();
      if (dt > 0) rate = (total - last_total_) / dt;
    }
    last_t_ = now;
    last_total_ = total;
    return rate;
  }

 private:
  std::optional<Clock::time_point> last_t_;
  double last_total_ = 0;
};

}  // namespace peaknet::common
