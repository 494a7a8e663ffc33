// DaemonRuntime's control socket: every verb over a real ZMQ ipc socket, malformed input, live keys.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>

#include "../ctl/test_guards.hpp"  // TempDir, FakeNotifySocket
#include "common/control_client.hpp"
#include "common/daemon_runtime.hpp"
#include "common/run_dir.hpp"

using namespace peaknet;
using nlohmann::json;

namespace {
config::SuiteConfig config_in(const std::string& run_dir) {
  json root = {{"run", {{"name", "ctltest"}, {"run_dir", run_dir}}}};
  return config::parse_suite_config(root, "<test>");
}

struct CommonControlServer : ::testing::Test {
  test::TempDir dir{"ctlsrv"};
  std::atomic<int> drains{0}, stops{0};
  std::atomic<int64_t> batch{8};
  common::DaemonHooks hooks() {
    common::DaemonHooks h;
    h.stats = [this] { return json{{"events_in", 5}, {"batch_size", batch.load()}}; };
    h.live_keys = {{"inferd.batch_size",
                    [this](const json& v, std::string&) {
                      batch = v.get<int64_t>();
                      return true;
                    }},
                   {"inferd.max_wait_ms", [](const json&, std::string& error) {
                      error = "inferd.max_wait_ms: refused by the test daemon";
                      return false;
                    }}};
    h.request_drain = [this] { drains++; };
    h.request_stop = [this] { stops++; };
    h.swap_model = [](const std::string& path, std::string& error) {
      error = "refusing " + path;
      return path.find("good") != std::string::npos;
    };
    return h;
  }
};
}  // namespace

TEST_F(CommonControlServer, StatusReportsStateDigestAndPid) {
  const auto cfg = config_in(dir.path());
  common::DaemonRuntime sut("inferd", "0", cfg, hooks());
  sut.set_state(common::DaemonState::kReady);
  const json reply = common::control_request(sut.endpoint(), {{"cmd", "status"}});
  ASSERT_TRUE(reply.value("ok", false)) << reply.dump();
  EXPECT_EQ(reply["id"], "inferd-0");
  EXPECT_EQ(reply["state"], "ready");
  EXPECT_EQ(reply["pid"], ::getpid());
  EXPECT_EQ(reply["config_digest"], cfg.digest());
  EXPECT_EQ(sut.endpoint(), "ipc://" + dir.path() + "/inferd-0.sock");
}

TEST_F(CommonControlServer, StatsComeFromTheHook) {
  common::DaemonRuntime sut("inferd", "0", config_in(dir.path()), hooks());
  batch = 13;
  const json reply = common::control_request(sut.endpoint(), {{"cmd", "stats"}});
  EXPECT_EQ(reply["stats"]["batch_size"], 13);
}

TEST_F(CommonControlServer, MalformedRequestsGetJsonErrorsAndTheServerKeepsAnswering) {
  common::DaemonRuntime sut("writerd", "", config_in(dir.path()), hooks());
  const std::vector<std::pair<std::string, std::string>> cases = {{"{not json", "malformed_json"},
                                                                  {"[1,2,3]", "bad_request"},
                                                                  {"{\"cmd\":42}", "bad_request"},
                                                                  {"{}", "bad_request"},
                                                                  {"{\"cmd\":\"explode\"}", "unknown_command"},
                                                                  {std::string("\xff\xfe\x00", 3), "malformed_json"},
                                                                  {"{\"cmd\":\"config_set\"}", "bad_request"},
                                                                  {"{\"cmd\":\"swap_model\"}", "bad_request"},
                                                                  {"", "malformed_json"}};
  for (const auto& [bytes, code] : cases) {
    const std::string text = common::control_request_raw(sut.endpoint(), bytes);
    const json reply = json::parse(text, nullptr, false);
    ASSERT_FALSE(reply.is_discarded()) << "reply to " << bytes << ": " << text;
    EXPECT_FALSE(reply["ok"].get<bool>());
    EXPECT_EQ(reply["error"]["code"], code) << bytes;
  }
  EXPECT_TRUE(common::control_request(sut.endpoint(), "status").value("ok", false));
}

TEST_F(CommonControlServer, ConfigSetAppliesLiveKeysAndRefusesOthersNamingRestart) {
  common::DaemonRuntime sut("inferd", "0", config_in(dir.path()), hooks());
  json reply =
      common::control_request(sut.endpoint(), {{"cmd", "config_set"}, {"key", "inferd.batch_size"}, {"value", 32}});
  EXPECT_TRUE(reply.value("ok", false)) << reply.dump();
  EXPECT_EQ(batch.load(), 32);
  reply = common::control_request(sut.endpoint(), {{"cmd", "config_get"}, {"key", "inferd.batch_size"}});
  EXPECT_EQ(reply["value"], 32);

  reply = common::control_request(sut.endpoint(), {{"cmd", "config_set"}, {"key", "inferd.device"}, {"value", "cpu"}});
  EXPECT_EQ(reply["error"]["code"], "restart_required");
  const std::string message = reply["error"]["message"].get<std::string>();
  EXPECT_NE(message.find("config.inferd.device"), std::string::npos) << message;
  EXPECT_NE(message.find("restart"), std::string::npos) << message;
  // The daemon's own table, after the runtime's log level keys.
  EXPECT_NE(message.find(R"(["log_level","inferd.log_level","inferd.batch_size","inferd.max_wait_ms"])"),
            std::string::npos)
      << message;
  EXPECT_EQ(common::control_request(sut.endpoint(), {{"cmd", "status"}})["live_keys"],
            json({"log_level", "inferd.log_level", "inferd.batch_size", "inferd.max_wait_ms"}));

  reply = common::control_request(sut.endpoint(), {{"cmd", "config_set"}, {"key", "inferd.max_wait_ms"}, {"value", 3}});
  EXPECT_EQ(reply["error"]["code"], "refused");
  EXPECT_EQ(reply["error"]["message"], "inferd.max_wait_ms: refused by the test daemon");

  reply = common::control_request(sut.endpoint(), {{"cmd", "config_set"}, {"key", "inferd.batch_size"}, {"value", 0}});
  EXPECT_EQ(reply["error"]["code"], "invalid_value");
  EXPECT_EQ(batch.load(), 32);

  reply = common::control_request(sut.endpoint(), {{"cmd", "config_set"}, {"key", "log_level"}, {"value", "debug"}});
  EXPECT_TRUE(reply.value("ok", false)) << reply.dump();
}

TEST_F(CommonControlServer, DrainStopAndSwapModelReachTheHooks) {
  common::DaemonRuntime sut("inferd", "0", config_in(dir.path()), hooks());
  EXPECT_TRUE(common::control_request(sut.endpoint(), {{"cmd", "drain"}}).value("ok", false));
  EXPECT_EQ(drains.load(), 1);
  EXPECT_TRUE(sut.drain_requested());
  EXPECT_EQ(sut.state(), common::DaemonState::kDraining);
  EXPECT_TRUE(common::control_request(sut.endpoint(), {{"cmd", "stop"}}).value("ok", false));
  EXPECT_EQ(stops.load(), 1);
  EXPECT_TRUE(sut.stop_requested());

  const std::string good = dir.path() + "/good.safetensors";
  std::ofstream(good) << "x";
  EXPECT_TRUE(common::control_request(sut.endpoint(), {{"cmd", "swap_model"}, {"path", good}}).value("ok", false));
  const std::string bad = dir.path() + "/bad.safetensors";
  std::ofstream(bad) << "x";
  EXPECT_EQ(common::control_request(sut.endpoint(), {{"cmd", "swap_model"}, {"path", bad}})["error"]["code"],
            "swap_failed");
  EXPECT_EQ(
      common::control_request(sut.endpoint(), {{"cmd", "swap_model"}, {"path", dir.path() + "/none"}})["error"]["code"],
      "not_found");
}

TEST_F(CommonControlServer, FirstSignalDrainsSecondStops) {
  common::DaemonRuntime sut("ingestd", "", config_in(dir.path()), hooks());
  ::kill(::getpid(), SIGTERM);
  for (int i = 0; i < 100 && drains == 0; ++i) usleep(10000);
  EXPECT_EQ(drains.load(), 1);
  EXPECT_EQ(stops.load(), 0);
  ::kill(::getpid(), SIGINT);
  for (int i = 0; i < 100 && stops == 0; ++i) usleep(10000);
  EXPECT_EQ(stops.load(), 1);
}

TEST_F(CommonControlServer, RunDirAndFilesArePrivateAndCleanedUp) {
  const std::string run_dir = dir.path() + "/nested/run";
  json root = {{"run", {{"name", "ctltest"}, {"run_dir", run_dir}}}};
  {
    common::DaemonRuntime sut("writerd", "", config::parse_suite_config(root), hooks());
    struct stat st {};
    ASSERT_EQ(::stat(run_dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_EQ(::stat((run_dir + "/writerd.pid").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_THROW(common::DaemonRuntime("writerd", "", config::parse_suite_config(root), hooks()), std::runtime_error);
  }
  EXPECT_FALSE(std::filesystem::exists(run_dir + "/writerd.sock"));
  EXPECT_FALSE(std::filesystem::exists(run_dir + "/writerd.pid"));
  std::ifstream final_stats(run_dir + "/writerd.final.json");
  const json doc = json::parse(final_stats, nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_EQ(doc["stats"]["events_in"], 5);
}

TEST_F(CommonControlServer, GroupAccessMakesRunDirSocketAndFilesGroupReachable) {
  // run.group_access: members of the daemons' group run peakctl status/stats (systemd node config).
  const std::string run_dir = dir.path() + "/group/run";
  json root = {{"run", {{"name", "ctltest"}, {"run_dir", run_dir}, {"group_access", true}}}};
  const auto cfg = config::parse_suite_config(root);
  EXPECT_TRUE(cfg.q1.group_shareable);
  EXPECT_TRUE(cfg.q2.group_shareable);
  common::DaemonRuntime sut("writerd", "", cfg, hooks());
  struct stat st {};
  ASSERT_EQ(::stat(run_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0750u);
  ASSERT_EQ(::stat((run_dir + "/writerd.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  ASSERT_EQ(::stat((run_dir + "/writerd.pid").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(CommonRunDir, SystemdRuntimeDirectoryIsTheBase) {
  // Units set RUNTIME_DIRECTORY (RuntimeDirectory=peaknet); a ':' list names several, ours first.
  const char* old = std::getenv("RUNTIME_DIRECTORY");
  const std::string saved = old ? old : "";
  ::setenv("RUNTIME_DIRECTORY", "/run/peaknet:/run/other", 1);
  config::RunConfig run;
  run.name = "beamline7";
  EXPECT_EQ(common::resolve_run_dir(run), "/run/peaknet/beamline7");
  run.run_dir = "/elsewhere";
  EXPECT_EQ(common::resolve_run_dir(run), "/elsewhere");
  if (old) ::setenv("RUNTIME_DIRECTORY", saved.c_str(), 1);
  else ::unsetenv("RUNTIME_DIRECTORY");
}

TEST_F(CommonControlServer, UnreachableEndpointIsAnErrorNotAHang) {
  const json reply = common::control_request("ipc://" + dir.path() + "/nobody.sock", {{"cmd", "status"}});
  EXPECT_EQ(reply["error"]["code"], "unreachable");
}
