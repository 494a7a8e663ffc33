// Slot sizes that fit the data (issue 16 item 6), on the real daemons and peakctl:
//   - a Q1 slot too small for the declared event (gpu-node.json's old 15 MiB slots for 1920^2 float64
//     frames) makes every daemon refuse to start, naming the keys and the size needed;
//   - events that do not fit a slot at run time are dropped loudly: an error line, stats and a gauge;
//   - `peakctl doctor --message FILE` decodes a sample message and says whether its events fit.
#include <gtest/gtest.h>

#include "../../fault/suite/suite_harness.hpp"
#include "common/control_client.hpp"
#include "common/run_dir.hpp"

namespace peaknet::health_test {
namespace {

using fault::SuiteRun;
using ingestd::testing::ChildProcess;
using ingestd::testing::eventually;
using ingestd::testing::read_text;
using namespace std::chrono_literals;

TEST(SlotFit, EveryDaemonRefusesToStartWhenQ1CannotHoldTheDeclaredEvent) {
  SuiteRun run("slot_refuse");
  for (const std::string daemon : {"ingestd", "inferd", "writerd"}) {
    auto& child =
        run.start(daemon, {"q1.event_shape=[1, 1920, 1920]", "q1.event_dtype=float64", "q1.slot_bytes=15728640"});
    ASSERT_EQ(child.wait(30s), 1) << daemon << " did not refuse: " << run.log_text(daemon);
    const std::string log = run.log_text(daemon);
    EXPECT_NE(log.find("config.q1.slot_bytes"), std::string::npos) << log;
    EXPECT_NE(log.find("event_shape"), std::string::npos) << log;
    EXPECT_NE(log.find("29495296"), std::string::npos) << "the size needed: " << log;
    run.forget(child);
  }
}

TEST(SlotFit, EventsLargerThanAQ1SlotAreDroppedLoudlyNotSilently) {
  SuiteRun run("slot_loud");  // Q1 slots for 64x64 float32 frames
  run.start("ingestd");
  auto& pusher = run.push({"--shape", "4", "1", "128", "128", "-c", "2", "-r", "50"});
  ASSERT_EQ(pusher.wait(60s), 0) << run.log_text("pusher");
  ASSERT_TRUE(eventually([&] { return run.counter("ingestd", "messages_decoded") == 2; }, 30s))
      << run.log_text("ingestd");
  EXPECT_EQ(run.counter("ingestd", "dropped_slot_too_small"), 8u);
  EXPECT_EQ(run.counter("ingestd", "events_enqueued"), 0u);
  const uint64_t needed = 4096 + 128 * 128 * 4;
  EXPECT_EQ(run.counter("ingestd", "q1_slot_bytes_needed"), needed);
  const std::string log = run.log_text("ingestd");
  EXPECT_NE(log.find("4 of 4 events dropped (slot_too_small)"), std::string::npos) << log;
  EXPECT_NE(log.find("needs a Q1 slot of " + std::to_string(needed) + " bytes"), std::string::npos) << log;
  const auto stats = common::control_request(common::control_endpoint((run.dir() / "run").string(), "ingestd"),
                                             {{"cmd", "stats"}}, 2000ms);
  ASSERT_TRUE(stats.value("ok", false)) << stats.dump();
  EXPECT_EQ(stats["stats"]["slot_too_small"]["dropped"], 8) << stats.dump();
  EXPECT_EQ(stats["stats"]["slot_too_small"]["slot_bytes_needed"], needed) << stats.dump();
}

/// peakctl doctor's output for the golden 3 x 1 x 64 x 80 float32 HDF5 message and `slot_bytes`.
std::string doctor_output(SuiteRun& run, const std::string& slot_bytes) {
  const auto log = run.dir() / ("doctor-" + slot_bytes + ".out");
  ChildProcess doctor({PEAKCTL_PATH, "doctor", "--config", run.config_path().string(), "--set",
                       "q1.slot_bytes=" + slot_bytes, "--message", PEAKNET_GOLDEN_DIR "/wire/hdf5-none.h5msg"},
                      log);
  EXPECT_TRUE(doctor.wait(60s).has_value()) << "peakctl doctor did not finish";
  return read_text(log);
}

TEST(SlotFit, DoctorChecksASampleMessageAgainstTheSlots) {
  SuiteRun run("slot_doctor");
  const uint64_t needed = 4096 + 64 * 80 * 4;  // 24576
  const std::string too_small = doctor_output(run, "20480");
  EXPECT_NE(too_small.find("FAIL  3 event(s) of [1, 64, 80] float32"), std::string::npos) << too_small;
  EXPECT_NE(too_small.find("a Q1 slot needs " + std::to_string(needed) + " bytes"), std::string::npos) << too_small;
  EXPECT_NE(too_small.find("q1.event_shape='[1, 64, 80]'"), std::string::npos)
      << "the fix names the keys: " << too_small;
  const std::string fits = doctor_output(run, "65536");
  EXPECT_NE(fits.find("OK    3 event(s) of [1, 64, 80] float32"), std::string::npos) << fits;
  EXPECT_EQ(fits.find("FAIL  3 event(s)"), std::string::npos) << fits;
}

}  // namespace
}  // namespace peaknet::health_test
