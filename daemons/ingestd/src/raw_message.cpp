#include "ingestd/raw_message.hpp"

#include <time.h>

namespace peaknet::ingestd {

uint64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

}  // namespace peaknet::ingestd
