#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "common/logging.hpp"

namespace peaknet {
namespace {

TEST(RejectLogRateLimiter, LetsOneLineThroughPerIntervalAndReportsWhatItHeldBack) {
  logging::RateLimiter sut(std::chrono::milliseconds(200));
  uint64_t suppressed = 99;
  EXPECT_TRUE(sut.allow(suppressed));
  EXPECT_EQ(suppressed, 0u);
  int allowed = 0;
  for (int i = 0; i < 1000; ++i) allowed += sut.allow(suppressed) ? 1 : 0;
  EXPECT_EQ(allowed, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_TRUE(sut.allow(suppressed));
  EXPECT_EQ(suppressed, 1000u);
}

}  // namespace
}  // namespace peaknet
