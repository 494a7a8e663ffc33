// Event identity across runs into one output dir: the rings and counter blocks are removed between
// two runs (what `peakctl clean` and a reboot do), so the second run's event ids start at 0 again.
// Every event of the second run must be written — none skipped as a "duplicate" of the first run's
// files — while a real re-delivery (inferd SIGKILLed with a claimed batch) is still written once.
#include <algorithm>

#include <gtest/gtest.h>

#include "inferd_kill.hpp"
#include "suite_harness.hpp"

namespace peaknet::fault {
namespace {

constexpr uint64_t kEventsPerMessage = 4;

std::vector<std::string> batch(uint64_t messages, double rate) {
  return {"--shape", "4", "1", "64", "64", "-c", std::to_string(messages), "-r", std::to_string(rate)};
}

/// Pusher done, ingestd decoded `messages`, then the drain (SIGTERM to ingestd) and every daemon exits 0.
void push_and_drain(SuiteRun& run, uint64_t messages, bool kill_inferd_midway) {
  run.start("writerd");
  auto& inferd = run.start("inferd");
  auto& ingestd = run.start("ingestd");
  auto& pusher = run.push(batch(messages, 40));
  if (kill_inferd_midway) {
    ASSERT_NO_FATAL_FAILURE(sigkill_inferd_holding_claims(run, inferd));
  }
  ASSERT_EQ(pusher.wait(90s), 0) << run.log_text("pusher");
  ASSERT_TRUE(eventually(
      [&] {
        return run.counter("ingestd", "messages_decoded") + run.counter("ingestd", "messages_rejected") >= messages;
      },
      60s))
      << run.log_text("ingestd");
  ingestd.signal(SIGTERM);
  std::string why;
  ASSERT_TRUE(run.wait_all(90s, &why)) << why << "\n" << run.log_text("");
}

TEST(SuiteEventIdentity, RingsRemovedBetweenTwoRunsEveryEventOfTheSecondRunIsWritten) {
  SuiteRun run("identity");
  constexpr uint64_t kFirst = 10, kSecond = 12;  // messages
  push_and_drain(run, kFirst, /*kill_inferd_midway=*/false);
  if (HasFatalFailure()) return;
  const auto first = run.written_keys();
  ASSERT_EQ(first.size(), kFirst * kEventsPerMessage) << run.ledger().describe();

  unlink_segments(run.name());  // as peakctl clean / a reboot: Q1, Q2 and the counter blocks are gone
  push_and_drain(run, kSecond, /*kill_inferd_midway=*/true);
  if (HasFatalFailure()) return;

  const Ledger l = run.ledger();  // the second run's counters (new blocks)
  EXPECT_EQ(l.received, kSecond * kEventsPerMessage) << l.describe();
  EXPECT_EQ(l.written, l.received) << "events of the second run skipped; " << l.describe();
  EXPECT_EQ(l.in_flight(), 0) << l.describe();
  EXPECT_GE(l.q1_requeued, 1u) << "inferd was killed with a claimed batch: " << l.describe();

  const auto all = run.written_keys();
  std::set<std::pair<uint64_t, uint64_t>> unique;
  std::set<uint64_t> ids_first, ids_second;
  for (const auto& k : all) unique.insert({k.epoch, k.id});
  EXPECT_EQ(unique.size(), all.size()) << "an event written twice; " << l.describe();
  EXPECT_EQ(all.size(), (kFirst + kSecond) * kEventsPerMessage) << l.describe();
  // Both runs used the same ids (sequences from 0), each under its own nonzero epoch.
  std::set<uint64_t> first_epochs, all_epochs;
  for (const auto& k : first) first_epochs.insert(k.epoch), ids_first.insert(k.id);
  for (const auto& k : all) all_epochs.insert(k.epoch);
  ASSERT_EQ(first_epochs.size(), 1u);
  EXPECT_NE(*first_epochs.begin(), 0u);
  EXPECT_EQ(all_epochs.size(), 2u);
  for (const auto& k : all) {
    if (k.epoch != *first_epochs.begin()) ids_second.insert(k.id);
  }
  EXPECT_EQ(ids_second.size(), kSecond * kEventsPerMessage);
  EXPECT_TRUE(std::includes(ids_second.begin(), ids_second.end(), ids_first.begin(), ids_first.end()))
      << "the second run did not reuse the first run's ids: the test would not show anything";
}

}  // namespace
}  // namespace peaknet::fault
