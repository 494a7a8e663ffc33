// common::open_ring: the rings of a suite carry the event layout version, so a daemon never reads
// slots written by a daemon of another layout (after an upgrade, a stale Q1 of the old version).
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/config/segment_names.hpp"
#include "common/config/suite_config.hpp"
#include "common/open_ring.hpp"
#include "shm/event_layout.hpp"
#include "shm/ring.hpp"

namespace peaknet::common {
namespace {

using namespace std::chrono_literals;

config::SuiteConfig test_config() {
  const std::string run =
      "openring-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  return config::parse_suite_config(nlohmann::json{{"run", {{"name", run}}}});
}

struct Unlink {
  std::string name;
  explicit Unlink(std::string n) : name(std::move(n)) { shm::Ring::unlink(name); }
  ~Unlink() { shm::Ring::unlink(name); }
};

// A ring of the same name as the suite's Q1, created by "another version" of the suite.
shm::Ring create_other_version(const config::SuiteConfig& cfg, uint32_t layout, int events) {
  shm::RingOptions o = config::ring_options(cfg, cfg.q1);
  o.payload_layout = layout;
  shm::Ring r = shm::Ring::create(o);
  for (int i = 0; i < events; ++i) {
    auto slot = r.acquire(1s);
    EXPECT_TRUE(slot.has_value());
    r.publish(std::move(*slot));
  }
  return r;
}

TEST(OpenRing, TheSuitesRingsCarryTheEventLayoutVersion) {
  const auto cfg = test_config();
  EXPECT_EQ(config::ring_options(cfg, cfg.q1).payload_layout, shm::kEventLayoutVersion);
  EXPECT_EQ(config::ring_options(cfg, cfg.q2).payload_layout, shm::kEventLayoutVersion);
}

TEST(OpenRing, RefusesARingOfAnotherLayoutWhileItsUsersLive) {
  const auto cfg = test_config();
  Unlink guard(config::segment_name(cfg, cfg.q1));
  shm::Ring other = create_other_version(cfg, shm::kEventLayoutVersion + 1, 1);
  try {
    open_ring(cfg, cfg.q1);
    FAIL() << "expected ShmError";
  } catch (const shm::ShmError& e) {
    EXPECT_NE(std::string(e.what()).find("payload layout " + std::to_string(shm::kEventLayoutVersion + 1) +
                                         ", this build reads " + std::to_string(shm::kEventLayoutVersion)),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(other.counters().occupancy, 1u);  // the other version's events are untouched
}

TEST(OpenRing, ReplacesAnAbandonedRingOfAnotherLayoutAndSaysWhatWasDropped) {
  const auto cfg = test_config();
  Unlink guard(config::segment_name(cfg, cfg.q1));
  { shm::Ring other = create_other_version(cfg, shm::kEventLayoutVersion + 1, 3); }
  shm::Ring r = open_ring(cfg, cfg.q1);
  EXPECT_NE(r.replaced().find("3 events queued in it were dropped"), std::string::npos) << r.replaced();
  EXPECT_EQ(r.counters().occupancy, 0u);
}

TEST(OpenRing, KeepsTheQueuedEventsOfTheSameLayout) {
  const auto cfg = test_config();
  Unlink guard(config::segment_name(cfg, cfg.q1));
  { shm::Ring same = create_other_version(cfg, shm::kEventLayoutVersion, 2); }
  shm::Ring r = open_ring(cfg, cfg.q1);
  EXPECT_EQ(r.replaced(), "");
  EXPECT_EQ(r.counters().occupancy, 2u);
}

}  // namespace
}  // namespace peaknet::common
