// Two nodes on loopback (docs/OPERATIONS.md "What a node's death loses"): suites A and B, each started
// by `peakctl start --no-systemd --cpu` with its own run name, ports and dirs; one peaknet-pusher of 4
// ranks whose PUSH sockets connect to both ingestds and number their events (producer_id/producer_seq).
// Mid-stream B's inferd is stopped so that B's Q1 and ingestd's decode queue fill, then B's whole suite
// is SIGKILLed. Checked:
//  - `peakctl status` of B says dead; `peakctl clean` of B refuses (exit 1) and names the queued events;
//  - `peakctl start` of B resumes: the restarted ingestd books what the dead one held (the held gauges
//    read just before the kill) as messages_lost_in_crash / dropped_lost_in_crash, nothing stays in
//    flight, and every event B received that was not lost with its ingestd is written or filtered;
//  - over the fleet (`peakctl stats --fleet` of both metrics endpoints): received + lost in transit
//    = the events the pusher sent, with at least the undecoded messages' events lost in transit;
//  - `peakctl stop` of each node exits 0 (its ledger balances).
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "shm/ring.hpp"
#include "suite_fixture.hpp"

namespace peaknet::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

int free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

int read_pid(const std::string& file) {
  int pid = 0;
  std::ifstream(file) >> pid;
  return pid;
}

/// One node: its config, run dir and peakctl commands.
struct Node {
  std::string name, dir, config, run_dir, out_dir;
  int port = 0, metrics_port = 0;

  Node(const std::string& base, const std::string& label)
      : name("pkmn" + label + std::to_string(::getpid())),
        dir(base + "/" + label),
        config(dir + "/suite.json"),
        run_dir(dir + "/run"),
        out_dir(dir + "/out"),
        port(free_tcp_port()),
        metrics_port(free_tcp_port()) {
    std::filesystem::create_directories(dir);
    const json cfg = {{"run", {{"name", name}, {"run_dir", run_dir}, {"log_level", "info"}}},
                      {"q1", {{"slots", 16}, {"slot_bytes", 65536}}},
                      {"q2", {{"slots", 32}}},  // slot size derived: frames of hits travel in Q2
                      // What a dying ingestd can hold is bounded by these: 2 queued + 1 decoding + 1 receive thread.
                      {"ingestd",
                       {{"source", "zmq"},
                        {"endpoints", {{{"url", "tcp://127.0.0.1:" + std::to_string(port)}}}},
                        {"receive_hwm", 2},
                        {"decode_queue_messages", 2},
                        {"decode_threads", 1}}},
                      {"inferd",
                       {{"device", "cpu"},
                        {"cpu_threads", 1},
                        {"batch_size", 2},
                        {"max_wait_ms", 20},
                        {"warmup_iterations", 0},
                        {"warmup_shape", {1, 64, 64}},
                        {"model",
                         {{"config",
                           {{"backbone_hidden_sizes", {24, 48, 96, 192}},
                            {"backbone_depths", {1, 1, 2, 1}},
                            {"bifpn_num_blocks", 2},
                            {"bifpn_num_features", 64},
                            {"seg_out_channels", 64}}},
                          {"weights", PEAKNET_GOLDEN_DIR "/model/tiny.safetensors"}}}}},
                      {"writerd", {{"output_dir", out_dir}, {"events_per_file", 10}, {"max_file_age_ms", 500}}},
                      {"control",
                       {{"metrics_address", "127.0.0.1"},
                        {"metrics_port", metrics_port},
                        {"ready_timeout_s", 90},
                        {"stop_timeout_s", 60}}}};
    std::ofstream(config) << cfg.dump(2);
  }
  std::string ctl(const std::string& args) const {
    return std::string("timeout 150 ") + PEAKCTL_PATH + " " + args + " --config " + config;
  }
  json stats() const { return json_in(shell(ctl("stats --once --json --interval 0.3")).out); }
  std::string endpoint() const { return "tcp://127.0.0.1:" + std::to_string(port); }
  std::string metrics() const { return "127.0.0.1:" + std::to_string(metrics_port); }
};

double counter(const json& stats, const std::string& id, const std::string& name) {
  for (const auto& d : stats.value("daemons", json::array())) {
    if (d.value("id", std::string()).rfind(id, 0) == 0 && d["counters"].contains(name)) {
      return d["counters"][name].get<double>();
    }
  }
  return -1;
}

double q1_occupancy(const json& stats) {
  for (const auto& q : stats.value("queues", json::array())) {
    if (q.value("name", std::string()) == "q1") return q.value("occupancy", 0.0);
  }
  return -1;
}

/// Events in a dead suite's rings, read from the segments themselves (the handle is gone again before
/// `peakctl clean` looks: a live user would make it refuse for that reason instead).
double queued_at_rest(const std::string& run_name) {
  double n = 0;
  for (const char* ring : {"-q1", "-q2"}) n += double(peaknet::shm::Ring::attach(run_name + ring).counters().occupancy);
  return n;
}

double queued_in_rings(const json& stats) {
  double n = 0;
  for (const auto& q : stats.value("queues", json::array())) n += q.value("occupancy", 0.0);
  return n;
}

template <typename Pred>
bool wait_until(Pred pred, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

/// Removes the test's temp dir last (after the SuiteGuards stopped what its run dirs name).
struct RemoveDir {
  std::string dir;
  ~RemoveDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

/// Cleans up both nodes even when the test fails (SuiteGuard per node) and the pusher.
class TwoNodes : public ::testing::Test {
 protected:
  std::string base = [] {
    std::string t = (std::filesystem::temp_directory_path() / "pk-multinode-XXXXXX").string();
    return std::string(::mkdtemp(t.data()));
  }();
  RemoveDir remove_base{base};
  Node a{base, "A"}, b{base, "B"};
  SuiteGuard guard_a{a.name, a.dir, std::string(PEAKCTL_PATH) + " stop --now --config " + a.config};
  SuiteGuard guard_b{b.name, b.dir, std::string(PEAKCTL_PATH) + " stop --now --config " + b.config};
  pid_t pusher = -1;
  std::string pusher_out = base + "/pusher.json";

  void TearDown() override {
    if (pusher > 0) {
      ::kill(pusher, SIGKILL);
      ::waitpid(pusher, nullptr, 0);
    }
  }

  void start_pusher(const std::vector<std::string>& args) {
    pusher = ::fork();
    if (pusher == 0) {
      const int fd = ::open(pusher_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, STDOUT_FILENO);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(PUSHER_PATH));
      for (const auto& s : args) argv.push_back(const_cast<char*>(s.c_str()));
      argv.push_back(nullptr);
      ::execv(PUSHER_PATH, argv.data());
      ::_exit(127);
    }
  }

  /// SIGKILL of a node's suite: its supervisor first (so nothing is restarted), then every daemon.
  static void kill_suite(const Node& n) {
    ::kill(read_pid(n.run_dir + "/supervisor.pid"), SIGKILL);
    for (const char* id : {"ingestd", "inferd-cpu0", "writerd"})
      ::kill(read_pid(n.run_dir + "/" + id + ".pid"), SIGKILL);
  }
};

TEST_F(TwoNodes, KillNineOfOneSuiteIsCountedAndItsQueuedEventsResumeOnStart) {
  for (const Node* n : {&a, &b}) {
    const auto r = shell(n->ctl("start --no-systemd --cpu"));
    ASSERT_EQ(r.rc, 0) << n->name << ": " << r.out;
  }
  // A slow stream (4 messages/s per rank, 10 s) that is still running when B comes back.
  constexpr int kRanks = 4, kMessages = 40, kBatch = 2;
  start_pusher({"-e",         a.endpoint(),
                "-e",         b.endpoint(),
                "-n",         std::to_string(kRanks),
                "-c",         std::to_string(kMessages),
                "-r",         "4",
                "--shape",    std::to_string(kBatch),
                "1",          "64",
                "64",         "--format",
                "npz-stored", "--linger",
                "-1",         "--connect-wait",
                "0.5"});
  ASSERT_TRUE(wait_until(
      [&] {
        return counter(b.stats(), "writerd", "events_written") + counter(b.stats(), "writerd", "events_filtered") >= 4;
      },
      60s))
      << "node B's stream never reached writerd";

  // Stop B's inferd: its Q1 fills, then ingestd's decode queue; wait until ingestd holds all it can.
  const int inferd_b = read_pid(b.run_dir + "/inferd-cpu0.pid");
  ASSERT_GT(inferd_b, 0);
  ::kill(inferd_b, SIGSTOP);
  constexpr double kHeldBound = 2 + 1 + 1;  // decode_queue_messages + decode_threads + endpoints
  json before_kill;
  ASSERT_TRUE(wait_until(
      [&] {
        before_kill = b.stats();
        return counter(before_kill, "ingestd", "held_messages") == kHeldBound;
      },
      60s))
      << before_kill.dump();
  std::this_thread::sleep_for(500ms);
  before_kill = b.stats();
  const double held = counter(before_kill, "ingestd", "held_messages");
  const double queued = queued_in_rings(before_kill);
  EXPECT_EQ(held, kHeldBound);
  EXPECT_LE(counter(before_kill, "ingestd", "held_messages_max"), kHeldBound);
  ASSERT_GT(queued, 0);
  // The producer pauses while B is down (as a streamer still running would keep its sockets open):
  // a rank that closes while a node is down drops that node's queued messages even with LINGER -1.
  ASSERT_EQ(::waitpid(pusher, nullptr, WNOHANG), 0) << "the pusher finished before B was killed (machine too slow)";
  ::kill(pusher, SIGSTOP);
  kill_suite(b);
  ::kill(inferd_b, SIGCONT);  // (already dead: SIGKILL acts on stopped processes)
  // What the rings hold now that nobody can change them: until the kill, ingestd could still publish into
  // Q1 and writerd release Q2 after the snapshot above (seen once on a loaded CI machine: 17 vs 16).
  const double at_rest = queued_at_rest(b.name);
  ASSERT_GT(at_rest, 0);

  // The dead node: status says so; clean refuses to delete the queued events.
  const auto status = shell(b.ctl("status"));
  EXPECT_EQ(status.rc, 1) << status.out;
  EXPECT_NE(status.out.find("dead"), std::string::npos) << status.out;
  const auto clean = shell(b.ctl("clean"));
  EXPECT_EQ(clean.rc, 1) << clean.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(clean.out, m, std::regex(R"(hold (\d+) unprocessed events)"))) << clean.out;
  EXPECT_EQ(std::stod(m[1]), at_rest) << clean.out;
  EXPECT_TRUE(std::filesystem::exists("/dev/shm/" + b.name + "-q1"));
  const auto forced = shell(b.ctl("clean --force --dry-run"));  // what --force would throw away
  EXPECT_EQ(forced.rc, 0) << forced.out;
  EXPECT_NE(forced.out.find("would delete " + std::to_string(int(at_rest)) + " queued events"), std::string::npos)
      << forced.out;
  EXPECT_TRUE(std::filesystem::exists("/dev/shm/" + b.name + "-q1"));

  // The documented recovery: start again, from shm.
  const auto restart = shell(b.ctl("start --no-systemd --cpu"));
  ::kill(pusher, SIGCONT);
  ASSERT_EQ(restart.rc, 0) << restart.out;

  int status_code = 0;
  ASSERT_EQ(::waitpid(pusher, &status_code, 0), pusher);
  pusher = -1;
  ASSERT_TRUE(WIFEXITED(status_code) && WEXITSTATUS(status_code) == 0) << "pusher status " << status_code;
  json sent;
  std::ifstream(pusher_out) >> sent;
  ASSERT_EQ(sent.value("events", 0), kRanks * kMessages * kBatch) << sent.dump();

  // The pusher has handed its last messages to TCP; B (catching up on its backlog) may still be reading
  // them. At rest: nothing held or in flight on either node (the dead ingestd's events were settled, not
  // left open), and every rank's last event has arrived somewhere.
  const std::string fleet_cmd =
      std::string("timeout 30 ") + PEAKCTL_PATH + " stats --json --fleet " + a.metrics() + " " + b.metrics();
  json sa, sb, f;
  ASSERT_TRUE(wait_until(
      [&] {
        sa = a.stats();
        sb = b.stats();
        f = json_in(shell(fleet_cmd).out).value("fleet", json::object());
        return sa["ledger"].value("in_flight", -1.0) == 0 && sb["ledger"].value("in_flight", -1.0) == 0 &&
               q1_occupancy(sb) == 0 && counter(sb, "ingestd", "held_messages") == 0 &&
               f.value("seq_sent_seen", 0.0) == sent["events"].get<double>();
      },
      90s))
      << sa.dump() << "\n"
      << sb.dump() << "\n"
      << f.dump();
  EXPECT_EQ(counter(sb, "ingestd", "messages_lost_in_crash"), held);
  EXPECT_EQ(counter(sb, "ingestd", "dropped_lost_in_crash"), 1);  // the event waiting for a Q1 slot
  const double received_b = sb["ledger"]["received"], lost_b = counter(sb, "ingestd", "dropped_lost_in_crash");
  EXPECT_EQ(sb["ledger"]["dropped"].get<double>(), lost_b) << sb.dump();
  // Every event B took in that did not die with its ingestd was judged: the queued ones too.
  EXPECT_EQ(sb["ledger"]["written"].get<double>() + sb["ledger"]["filtered"].get<double>(), received_b - lost_b);
  EXPECT_GE(sb["ledger"]["written"].get<double>() + sb["ledger"]["filtered"].get<double>(), at_rest);

  // The fleet: every event the pusher sent is received somewhere or counted lost in transit.
  const auto fleet = shell(fleet_cmd);
  ASSERT_EQ(fleet.rc, 0) << fleet.out;
  EXPECT_EQ(shell(fleet_cmd + " 127.0.0.1:1").rc, 1) << "a node that cannot be read makes --fleet exit 1";
  f = json_in(fleet.out)["fleet"];
  const double received = f["ledger"]["received"].get<double>(), lost = f["lost_in_transit"].get<double>();
  EXPECT_EQ(received, sa["ledger"]["received"].get<double>() + received_b);
  EXPECT_EQ(f["seq_received"].get<double>(), received);  // every event carried its number
  EXPECT_EQ(received + lost, sent["events"].get<double>()) << f.dump();
  EXPECT_GE(lost, (held - 1) * kBatch) << "the undecoded messages' events are lost in transit";
  EXPECT_EQ(f["events_lost_in_crash"].get<double>(), lost_b);

  // Per connection: A's peer table accounts for every message A received, one row per rank.
  const json peers_a = sa["delivery"]["endpoints"][0]["peers"];
  double by_peer = 0;
  for (const char* state : {"connected", "disconnected"}) {
    for (const auto& p : peers_a[state]) by_peer += p["messages"].get<double>();
  }
  EXPECT_EQ(peers_a["connected"].size() + peers_a["disconnected"].size(), size_t(kRanks)) << peers_a.dump();
  EXPECT_EQ(by_peer, counter(sa, "ingestd", "messages_received")) << peers_a.dump();

  for (const Node* n : {&a, &b}) {
    const auto stop = shell(n->ctl("stop"));
    EXPECT_EQ(stop.rc, 0) << n->name << ": " << stop.out;
  }
}

}  // namespace
}  // namespace peaknet::test
