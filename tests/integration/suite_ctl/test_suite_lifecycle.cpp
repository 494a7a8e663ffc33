// peakctl start/status/stats/stop of the real daemons on CPU: every daemon ready with a pid, a live
// ledger, and a graceful stop that leaves nothing in flight and CXI files on disk.
#include <signal.h>

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
