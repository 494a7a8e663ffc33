// RateMeter: the daemons' status-line rates (ingestd events/s, inferd events/s and batches/s).
#include <gtest/gtest.h>

#include "common/rate_meter.hpp"

namespace peaknet::common {
namespace {

using namespace std::chrono_literals;
using Clock = RateMeter::Clock;

TEST(RateMeter, FirstReadingStartsTheClockOnly) {
  RateMeter m;
  // A total carried over from before this process (a counter block that outlived it) is no rate.
  EXPECT_EQ(m.per_second(1e6, Clock::time_point{} + 10s), 0.0);
}

TEST(RateMeter, RateIsTheGrowthSinceThePreviousReading) {
  RateMeter m;
  const auto t0 = Clock::time_point{} + 10s;
  m.per_second(100, t0);
  EXPECT_DOUBLE_EQ(m.per_second(300, t0 + 2s), 100.0);
  EXPECT_DOUBLE_EQ(m.per_second(300, t0 + 3s), 0.0);  // nothing new in the last second
  EXPECT_DOUBLE_EQ(m.per_second(450, t0 + 3500ms), 300.0);
}

TEST(RateMeter, NoTimePassedIsNoRate) {
  RateMeter m;
  const auto t0 = Clock::time_point{} + 1s;
  m.per_second(5, t0);
  EXPECT_EQ(m.per_second(50, t0), 0.0);
}

}  // namespace
}  // namespace peaknet::common
