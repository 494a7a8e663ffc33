// The control plane of the real daemons: malformed requests on their ipc sockets get JSON errors and
// the daemons keep running; `peakctl stats` on a pseudo-terminal redraws a table with changing
// numbers; a real daemon's sd_notify messages as systemd would read them (fake NOTIFY_SOCKET).
#include <spawn.h>

#include <regex>

#include "../../unit/ctl/test_guards.hpp"
#include "common/control_client.hpp"
#include "suite_fixture.hpp"

extern char** environ;

using nlohmann::json;
using peaknet::test::json_in;
using peaknet::test::shell;

namespace {
class ControlPlane : public peaknet::test::RealSuite {};

/// A child process killed (SIGKILL) and reaped when the test ends, however it ends.
class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> argv) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (::posix_spawn(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) pid_ = -1;
  }
  ~ChildProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  /// Exit status once the process has ended, -1 while it runs.
  int poll() {
    int status = 0;
    if (!exited_ && pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      rc_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return exited_ ? rc_ : -1;
  }
  int pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int rc_ = -1;
};
}  // namespace

TEST_F(ControlPlane, MalformedRequestsGetJsonErrorsAndTheDaemonsKeepRunning) {
  auto r = start();
  ASSERT_EQ(r.rc, 0) << r.out;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"}{", "malformed_json"},
      {std::string("\x00\xff\xfe{\"cmd\"", 7), "malformed_json"},
      {"", "malformed_json"},
      {std::string(200000, '['), "malformed_json"},
      {R"({"cmd":"frobnicate"})", "unknown_command"},
      {R"({"cmd":42})", ""},
      {R"([1,2,3])", ""},
      {R"({"cmd":"config_get","key":7})", "bad_request"},
      {R"({"cmd":"config_set","key":"inferd.batch_size"})", "bad_request"},
      {R"({"cmd":"config_set","key":"inferd.batch_size","value":"three"})", ""},
      {R"({"cmd":"config_set","key":"inferd.device","value":"cuda"})", "restart_required"},
      {R"({"cmd":"swap_model","path":17})", ""},
  };
  for (const char* id : {"ingestd", "inferd-cpu0", "writerd"}) {
    const std::string ep = "ipc://" + run_dir + "/" + id + ".sock";
    const json before = peaknet::common::control_request(ep, {{"cmd", "status"}});
    ASSERT_TRUE(before.value("ok", false)) << id << ": " << before.dump();
    for (const auto& [request, code] : cases) {
      const std::string raw = peaknet::common::control_request_raw(ep, request);
      const json reply = json::parse(raw, nullptr, false);
      ASSERT_TRUE(reply.is_object()) << id << " answered " << raw.substr(0, 200) << " to " << request.substr(0, 60);
      EXPECT_EQ(reply.value("ok", true), false) << id << ": " << raw;
      ASSERT_TRUE(reply.contains("error")) << id << ": " << raw;
      EXPECT_FALSE(reply["error"].value("message", std::string()).empty()) << raw;
      if (!code.empty()) {
        EXPECT_EQ(reply["error"].value("code", std::string()), code) << id << ": " << raw;
      }
    }
    const json after = peaknet::common::control_request(ep, {{"cmd", "status"}});
    EXPECT_EQ(after.value("state", std::string()), "ready") << id << ": " << after.dump();
    EXPECT_EQ(after.value("pid", 0), before.value("pid", -1)) << id << " was restarted";
  }
  EXPECT_TRUE(wait_written(3)) << "the stream stopped after the malformed requests";
}

TEST_F(ControlPlane, StatsOnAPseudoTerminalRedrawsWithLiveNumbers) {
  if (shell("command -v script").rc != 0) GTEST_SKIP() << "no script(1) for a pseudo-terminal";
  auto r = start();
  ASSERT_EQ(r.rc, 0) << r.out;
  ASSERT_TRUE(wait_written(2));
  r = shell("script -qec '" + ctl("stats --interval 0.5 --iterations 3") + "' /dev/null");
  ASSERT_EQ(r.rc, 0) << r.out;
  // Frames start with "clear screen + home"; each shows the table and the ledger.
  std::vector<double> received;
  const std::regex ledger(R"(ledger: received (\d+))");
  size_t frames = 0;
  for (size_t at = r.out.find("\033[H\033[2J"); at != std::string::npos; at = r.out.find("\033[H\033[2J", at + 1)) {
    ++frames;
    const size_t next = r.out.find("\033[H\033[2J", at + 1);
    const std::string frame = r.out.substr(at, next == std::string::npos ? std::string::npos : next - at);
    EXPECT_NE(frame.find("EVENTS/s"), std::string::npos) << frame;
    EXPECT_NE(frame.find("inferd-cpu0"), std::string::npos) << frame;
    EXPECT_NE(frame.find("q1"), std::string::npos) << frame;
    std::smatch m;
    if (std::regex_search(frame, m, ledger)) received.push_back(std::stod(m[1]));
  }
  ASSERT_GE(frames, 2u) << r.out;
  ASSERT_GE(received.size(), 2u) << r.out;
  EXPECT_GT(received.back(), received.front()) << "the numbers did not change between refreshes:\n" << r.out;
}

TEST_F(ControlPlane, RealDaemonTalksSdNotifyLikeSystemdExpects) {
  // ingestd alone: a short synthetic stream into Q1 (no consumer needed: fewer events than slots).
  json cfg = suite_config(40);
  cfg["ingestd"]["synthetic"]["events"] = 12;
  write_config(cfg);
  std::filesystem::create_directories(run_dir);
  std::vector<std::string> messages;
  int rc = -1;
  {
    peaknet::test::FakeNotifySocket notify(dir + "/notify.sock");
    ::setenv("WATCHDOG_USEC", "400000", 1);  // pings at most every 100 ms
    ChildProcess ingestd({INGESTD_PATH, "--config", config_path});
    ASSERT_GT(ingestd.pid(), 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& m : notify.drain()) messages.push_back(std::move(m));
      if ((rc = ingestd.poll()) >= 0) break;
    }
    for (auto& m : notify.drain()) messages.push_back(std::move(m));
  }
  EXPECT_EQ(rc, 0);
  auto first = [&](const std::string& what) {
    for (size_t i = 0; i < messages.size(); ++i) {
      if (messages[i].find(what) != std::string::npos) return int(i);
    }
    return -1;
  };
  std::string all;
  for (const auto& m : messages) all += m + " | ";
  const int ready = first("READY=1"), watchdog = first("WATCHDOG=1"), stopping = first("STOPPING=1");
  ASSERT_GE(ready, 0) << all;
  EXPECT_GE(first("STATUS=ingestd"), 0) << all;
  EXPECT_NE(messages[size_t(ready)].find("STATUS=ingestd ready"), std::string::npos) << all;
  EXPECT_GT(watchdog, ready) << "WATCHDOG=1 before READY=1 or never: " << all;
  EXPECT_GT(stopping, watchdog) << all;
  EXPECT_EQ(std::count_if(messages.begin(), messages.end(),
                          [](const std::string& m) { return m.find("READY=1") != std::string::npos; }),
            1)
      << all;
}
