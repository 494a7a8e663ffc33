// The whole suite under faults, as real processes (ingestd → inferd CPU tiny model → writerd, fed by
// peaknet-pusher over loopback tcp; suite_harness.hpp says why not ipc): SIGKILL inferd / ingestd
// and restart, a stalled writer under `block` and `drop_oldest`, malformed messages mixed with good
// ones, Q1 full for seconds. Each test ends with the ledger (received = written + filtered + dropped
// + evicted, nothing in flight) and the CXI event ids (each written once).
#include <gtest/gtest.h>

#include "inferd_kill.hpp"
#include "suite_harness.hpp"

namespace peaknet::fault {
namespace {

constexpr uint64_t kEventsPerMessage = 4;
const std::vector<std::string> kBatch{"--shape", "4", "1", "64", "64"};

std::vector<std::string> batch(uint64_t messages, double rate) {
  auto args = kBatch;
  args.insert(args.end(), {"-c", std::to_string(messages), "-r", std::to_string(rate)});
  return args;
}

/// The checks every fault test ends with: all accounted for, nothing in flight, each enqueued event
/// written exactly once (min_num_peak 0 makes every event a hit).
void expect_balanced_and_unique(const SuiteRun& run, const Ledger& l) {
  EXPECT_EQ(l.in_flight(), 0) << l.describe();
  const auto ids = run.written_ids();
  const std::set<uint64_t> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), ids.size()) << "duplicate event ids in the CXI files; " << l.describe();
  EXPECT_EQ(ids.size(), l.written) << "CXI rows differ from events_written; " << l.describe();
  EXPECT_EQ(l.filtered, 0u) << l.describe();
}

/// Nothing lost, nothing dropped: `events` received, each written exactly once, the ledger balanced.
void expect_everything_written(const SuiteRun& run, uint64_t events) {
  const Ledger l = run.ledger();
  EXPECT_EQ(l.received, events) << l.describe();
  EXPECT_EQ(l.written, l.received) << l.describe();
  EXPECT_EQ(l.dropped + l.evicted, 0u) << l.describe();
  expect_balanced_and_unique(run, l);
}

/// The writer's counter block exists: it attached and is ready to consume.
bool writer_up(const SuiteRun& run) { return !run.counters("writerd").empty(); }

/// The pusher is done and ingestd decoded or rejected `messages` (0: until its count stops moving); then the
/// drain: SIGTERM to ingestd, which flushes into Q1 and finishes it; inferd and writerd follow.
void finish(SuiteRun& run, ChildProcess& pusher, ChildProcess& ingestd, uint64_t messages) {
  ASSERT_EQ(pusher.wait(90s), 0) << run.log_text("pusher");
  uint64_t last = ~0ull;
  ASSERT_TRUE(eventually(
      [&] {
        const uint64_t now = run.counter("ingestd", "messages_decoded") + run.counter("ingestd", "messages_rejected");
        if (messages) return now >= messages;
        const bool stable = now == last;
        last = now;
        std::this_thread::sleep_for(500ms);
        return stable;
      },
      60s))
      << run.log_text("ingestd");
  ingestd.signal(SIGTERM);
  std::string why;
  ASSERT_TRUE(run.wait_all(90s, &why)) << why << "\n" << run.log_text("");
}

TEST(SuiteFault, SigkillInferdUnderLoadItsClaimedEventsAreRequeuedAndWritten) {
  SuiteRun run("inferd_kill");
  run.start("writerd");
  auto& inferd = run.start("inferd");
  auto& ingestd = run.start("ingestd");
  auto& pusher = run.push(batch(40, 40));
  ASSERT_NO_FATAL_FAILURE(sigkill_inferd_holding_claims(run, inferd));
  finish(run, pusher, ingestd, 40);

  expect_everything_written(run, 40 * kEventsPerMessage);
  const Ledger l = run.ledger();
  EXPECT_GE(l.q1_requeued, 1u) << "the killed inferd's claims were not requeued; " << l.describe();
}

TEST(SuiteFault, SigkillIngestdMidStreamPusherReconnectsAndQueuedEventsAreWritten) {
  SuiteRun run("ingestd_kill");
  run.start("writerd");
  run.start("inferd");
  auto& ingestd = run.start("ingestd");
  auto& pusher = run.push(batch(60, 20));
  ASSERT_TRUE(eventually([&] { return run.counter("ingestd", "events_enqueued") >= 20; }, 60s)) << run.log_text("");
  ingestd.signal(SIGKILL);
  ingestd.wait(5s);
  run.forget(ingestd);
  const uint64_t enqueued_before = run.counter("ingestd", "events_enqueued");
  auto& restarted = run.start("ingestd");
  finish(run, pusher, restarted, 0);

  const Ledger l = run.ledger();
  // Messages on the dead connection are lost before ingestd saw them (not in the ledger); what
  // reached Q1 must all come out, and the pusher's later messages reach the new ingestd.
  EXPECT_GT(l.enqueued, enqueued_before) << "the pusher did not reconnect; " << l.describe();
  EXPECT_EQ(l.written, l.enqueued) << l.describe();
  // A SIGKILL between counting an event received and publishing it loses at most one per decode thread;
  // the restarted ingestd books those as lost_in_crash, so nothing stays in flight and no other drop occurs.
  const auto lost =
      l.drops_by_reason.count("ingestd:lost_in_crash") ? l.drops_by_reason.at("ingestd:lost_in_crash") : 0;
  EXPECT_EQ(l.dropped, lost) << "a drop other than lost_in_crash; " << l.describe();
  EXPECT_LE(lost, 1u) << l.describe();
  EXPECT_EQ(l.in_flight(), 0) << l.describe();
  const auto ids = run.written_ids();
  EXPECT_EQ(std::set<uint64_t>(ids.begin(), ids.end()).size(), ids.size()) << "duplicate ids; " << l.describe();
  EXPECT_EQ(l.duplicates_skipped, 0u) << "a restarted ingestd reused event ids; " << l.describe();
}

TEST(SuiteFault, StalledWriterWithBlockStallsTheSenderAndDropsNothing) {
  SuiteRun run("slow_block");
  auto& writerd = run.start("writerd");
  ASSERT_TRUE(eventually([&] { return writer_up(run); }, 30s)) << run.log_text("writerd");
  writerd.signal(SIGSTOP);
  run.start("inferd");
  auto& ingestd = run.start("ingestd");
  constexpr uint64_t kMessages = 100;  // more than Q1 + Q2 + the decode queue + both HWMs hold
  auto& pusher = run.push(batch(kMessages, 0));
  std::this_thread::sleep_for(4s);
  EXPECT_TRUE(pusher.running()) << "the sender never stalled";
  EXPECT_LT(run.counter("ingestd", "messages_received"), kMessages);
  EXPECT_GT(run.counter("ingestd", "q1_blocked_ns"), 0u);
  writerd.signal(SIGCONT);
  finish(run, pusher, ingestd, kMessages);

  expect_everything_written(run, kMessages * kEventsPerMessage);
}

TEST(SuiteFault, StalledWriterWithDropOldestCountsDropsAndBalances) {
  SuiteRun run("slow_drop", {.q1_policy = "drop_oldest", .q2_policy = "drop_oldest"});
  auto& writerd = run.start("writerd");
  ASSERT_TRUE(eventually([&] { return writer_up(run); }, 30s)) << run.log_text("writerd");
  writerd.signal(SIGSTOP);
  run.start("inferd");
  auto& ingestd = run.start("ingestd");
  constexpr uint64_t kMessages = 60;
  auto& pusher = run.push(batch(kMessages, 0));
  EXPECT_EQ(pusher.wait(30s), 0) << "drop_oldest must never stall the sender";
  // Give inferd time to fill Q2 while the writer is stopped, so Q2 may evict too (Q1 surely does).
  eventually(
      [&] {
        const auto q2 = run.ring("q2");
        return q2 && q2->dropped[size_t(shm::DropReason::kEvictedOldest)] > 0;
      },
      10s);
  writerd.signal(SIGCONT);
  finish(run, pusher, ingestd, kMessages);

  const Ledger l = run.ledger();
  EXPECT_EQ(l.received, kMessages * kEventsPerMessage) << l.describe();
  EXPECT_GT(l.evicted, 0u) << l.describe();
  EXPECT_LT(l.written, l.received) << l.describe();
  expect_balanced_and_unique(run, l);
}

// A sender that floods malformed messages and disconnects while ingestd is backpressured (inferd
// paused, Q1 and the socket's RCVHWM full): its unread tail is still in the kernel socket buffer when
// it exits. Every message must still arrive (tcp; ipc loses that tail, see suite_harness.hpp).
TEST(SuiteFault, MalformedFloodEveryGoodEventWrittenEveryBadMessageRejected) {
  SuiteRun run("malformed");
  const std::vector<std::string> bad_bodies{
      std::string(300, 'x'),                                         // unknown format
      std::string("PK\x03\x04", 4) + std::string(200, '\x7f'),       // zip header, then garbage
      std::string("\x89HDF\r\n\x1a\n", 8) + std::string(500, '\0'),  // HDF5 signature, no file
      std::string("\x93NUMPY", 6),                                   // truncated npy
      std::string(),                                                 // empty message
  };
  std::vector<std::string> bad_args{"--shape", "1", "1", "8", "8"};
  for (size_t i = 0; i < bad_bodies.size(); ++i) {
    const auto path = run.dir() / ("bad-" + std::to_string(i) + ".bin");
    std::ofstream(path, std::ios::binary) << bad_bodies[i];
    bad_args.insert(bad_args.end(), {"-f", path.string()});
  }
  constexpr uint64_t kBad = 100, kGood = 30;
  bad_args.insert(bad_args.end(), {"-c", std::to_string(kBad), "-r", "0", "--rank-base", "7"});
  run.start("writerd");
  auto& inferd = run.start("inferd");
  ASSERT_TRUE(eventually([&] { return run.ring("q1").has_value() || run.ring("q2").has_value(); }, 30s));
  inferd.signal(SIGSTOP);
  auto& ingestd = run.start("ingestd");
  auto& good = run.push(batch(kGood, 0));
  ASSERT_TRUE(eventually(
      [&] {
        const auto q1 = run.ring("q1");
        return q1 && q1->occupancy == 16;
      },
      30s))
      << run.log_text("");
  auto& bad = run.push(bad_args);
  ASSERT_EQ(bad.wait(30s), 0) << run.log_text("pusher");
  EXPECT_LT(run.counter("ingestd", "messages_received"), kBad + kGood)
      << "ingestd was not backpressured when the malformed sender left";
  inferd.signal(SIGCONT);
  finish(run, good, ingestd, kBad + kGood);

  const Ledger l = run.ledger();
  EXPECT_EQ(run.counter("ingestd", "messages_received"), kBad + kGood) << l.describe();
  EXPECT_EQ(l.rejected_messages, kBad) << l.describe();
  expect_everything_written(run, kGood * kEventsPerMessage);
}

TEST(SuiteFault, Q1FullForSecondsThenEverythingIsWritten) {
  SuiteRun run("q1_full");
  run.start("writerd");
  auto& inferd = run.start("inferd");
  ASSERT_TRUE(eventually([&] { return run.ring("q1").has_value() || run.ring("q2").has_value(); }, 30s));
  inferd.signal(SIGSTOP);  // paused consumer: Q1 fills and stays full
  auto& ingestd = run.start("ingestd");
  constexpr uint64_t kMessages = 100;  // more than Q1, the socket's HWM and tcp buffers hold
  auto& pusher = run.push(batch(kMessages, 0));
  ASSERT_TRUE(eventually(
      [&] {
        const auto q1 = run.ring("q1");
        return q1 && q1->occupancy == 16;
      },
      30s));
  std::this_thread::sleep_for(3s);
  const auto q1 = run.ring("q1");
  ASSERT_TRUE(q1);
  EXPECT_EQ(q1->occupancy, 16u) << "Q1 did not stay full while inferd was paused";
  EXPECT_TRUE(pusher.running());
  EXPECT_LT(run.counter("ingestd", "messages_received"), kMessages);
  inferd.signal(SIGCONT);
  finish(run, pusher, ingestd, kMessages);

  expect_everything_written(run, kMessages * kEventsPerMessage);
}

}  // namespace
}  // namespace peaknet::fault
