// peakctl start/status/stats/stop of the real daemons on CPU: every daemon ready with a pid, a live
// ledger, and a graceful stop that leaves nothing in flight and CXI files on disk.
#include <signal.h>
#include <sys/wait.h>

#include "shm/counter_block.hpp"
#include "shm/ring.hpp"
#include "suite_fixture.hpp"

using nlohmann::json;
using peaknet::test::json_in;
using peaknet::test::shell;

namespace {
class Lifecycle : public peaknet::test::RealSuite {};
}  // namespace

TEST_F(Lifecycle, StartStatusStatsStopDrainsEveryEvent) {
  auto r = start();
  ASSERT_EQ(r.rc, 0) << r.out;

  r = shell(ctl("status --json"));
  ASSERT_EQ(r.rc, 0) << r.out;
  const json status = json_in(r.out);
  ASSERT_EQ(status["daemons"].size(), 3u) << r.out;
  std::vector<int> pids;
  for (const auto& d : status["daemons"]) {
    EXPECT_EQ(d["state"], "ready") << d.dump();
    EXPECT_GT(d["pid"].get<int>(), 0) << d.dump();
    EXPECT_EQ(::kill(d["pid"].get<int>(), 0), 0) << d.dump();
    pids.push_back(d["pid"].get<int>());
  }
  EXPECT_EQ(status["daemons"][0]["id"], "ingestd");
  EXPECT_EQ(status["daemons"][1]["id"], "inferd-cpu0");
  EXPECT_EQ(status["daemons"][2]["id"], "writerd");

  ASSERT_TRUE(wait_written(5)) << shell(ctl("stats --once")).out;
  const json stats = stats_json();
  const json& ledger = stats["ledger"];
  EXPECT_GT(ledger["received"].get<double>(), 0) << stats.dump();
  EXPECT_GE(ledger["received"].get<double>(), ledger["written"].get<double>() + ledger["filtered"].get<double>());
  EXPECT_EQ(counter(stats, "ingestd", "events_received"), ledger["received"].get<double>());

  r = shell(ctl("stop --json"));
  ASSERT_EQ(r.rc, 0) << r.out;
  // inferd ends by itself once ingestd's Q1 is drained: a graceful stop never needs SIGTERM.
  EXPECT_EQ(r.out.find("did not accept"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("SIGTERM"), std::string::npos) << r.out;
  const json stopped = json_in(r.out);
  const json& l = stopped["ledger"];
  ASSERT_TRUE(l.is_object()) << r.out;
  EXPECT_EQ(l["in_flight"].get<double>(), 0) << r.out;
  EXPECT_EQ(l["received"].get<double>(),
            l["written"].get<double>() + l["filtered"].get<double>() + l["dropped"].get<double>())
      << r.out;
  EXPECT_GT(l["written"].get<double>(), 0) << r.out;
  EXPECT_GT(count_files(out_dir, ".cxi"), 0u);
  for (const int pid : pids) EXPECT_NE(::kill(pid, 0), 0) << "pid " << pid << " survived stop";
  EXPECT_EQ(shell(ctl("status")).rc, 3);
}

// docs/ctl.md: after a drain, `peakctl stop` exits 1 when the ledger does not balance. Five events that
// ingestd counted as received but that never reached Q1 (what a lost decode would leave) are added to its
// counter block; the drain then cannot account for them.
TEST_F(Lifecycle, StopExitsOneWhenTheLedgerDoesNotBalance) {
  auto r = start();
  ASSERT_EQ(r.rc, 0) << r.out;
  ASSERT_TRUE(wait_written(2)) << shell(ctl("stats --once")).out;
  {
    auto block = peaknet::shm::CounterBlock::attach(run_name + "-stats-ingestd");
    block.counter("events_received").fetch_add(5);
  }
  r = shell(ctl("stop --json"));
  EXPECT_EQ(r.rc, 1) << r.out;
  const json stopped = json_in(r.out);
  EXPECT_EQ(stopped["balanced"], false) << r.out;
  EXPECT_EQ(stopped["ledger"]["in_flight"].get<double>(), 5) << r.out;
}

// docs/ctl.md: `peakctl run` starts from empty rings, and says on stderr what it deletes of a crashed run
// (`peakctl start` would have resumed those events). A process that died leaves 3 events queued in Q1.
TEST_F(Lifecycle, RunSaysHowManyQueuedEventsOfACrashedRunItDeletes) {
  write_config(suite_config());
  const pid_t child = ::fork();
  if (child == 0) {
    peaknet::shm::RingOptions o;
    o.name = run_name + "-q1";
    o.slot_count = 16;
    o.slot_bytes = 262144;
    auto ring = peaknet::shm::Ring::create(o);
    for (int i = 0; i < 3; ++i) {
      auto slot = ring.acquire(std::chrono::milliseconds(1000));
      if (!slot) ::_exit(2);
      ring.publish(std::move(*slot));
    }
    ::_exit(0);  // dies holding the ring: a crashed run's queue
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const auto r = shell(ctl("run --cpu --events 6"));
  EXPECT_EQ(r.rc, 0) << r.out;  // and the run itself starts from empty rings and balances
  EXPECT_NE(r.out.find("deleting 3 unprocessed events queued in /dev/shm/" + run_name + "-q1"), std::string::npos)
      << r.out;
}
