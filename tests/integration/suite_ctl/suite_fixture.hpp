#pragma once
// A real suite (ingestd → inferd on CPU with the golden tiny weights → writerd) run through peakctl in a
// private temp dir with a run name unique to the test process. SuiteGuard undoes everything even when a
// test fails: `peakctl stop --now`, SIGKILL of every pid the run dir names, unlink of the run's shm
// segments, removal of the temp dir.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

namespace peaknet::test {

struct ShellResult {
  int rc = -1;
  std::string out;  ///< stdout + stderr
};

inline ShellResult shell(const std::string& cmd) {
  ShellResult r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

/// The JSON document in a command's output (peakctl prints progress lines on stderr before it).
inline nlohmann::json json_in(const std::string& out) {
  const size_t at = out.find('{');
  if (at == std::string::npos) return nlohmann::json();
  return nlohmann::json::parse(out.substr(at, out.rfind('}') + 1 - at), nullptr, false);
}

class SuiteGuard {
 public:
  SuiteGuard(std::string run_name, std::string dir, std::string stop_command)
      : run_name_(std::move(run_name)), dir_(std::move(dir)), stop_command_(std::move(stop_command)) {}
  SuiteGuard(const SuiteGuard&) = delete;
  SuiteGuard& operator=(const SuiteGuard&) = delete;
  ~SuiteGuard() {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::exists(dir_ + "/run", ec)) shell("timeout 20 " + stop_command_ + " >/dev/null");
    for (const auto& e : fs::directory_iterator(dir_ + "/run", ec)) {
      if (e.path().extension() != ".pid") continue;
      int pid = 0;
      std::ifstream(e.path()) >> pid;
      if (pid > 1) ::kill(pid, SIGKILL);
    }
    for (const auto& e : fs::directory_iterator("/dev/shm", ec)) {
      if (e.path().filename().string().rfind(run_name_ + "-", 0) == 0) fs::remove(e.path(), ec);
    }
    fs::remove_all(dir_, ec);
  }

 private:
  std::string run_name_, dir_, stop_command_;
};

/// One suite per test: config in a fresh temp dir, peakctl commands against it.
class RealSuite : public ::testing::Test {
 protected:
  std::string dir = make_dir();
  std::string run_name = "pkst" + std::to_string(::getpid()) + "x" + std::to_string(sequence()++);
  std::string config_path = dir + "/suite.json";
  std::string run_dir = dir + "/run";
  std::string out_dir = dir + "/out";
  std::string peakctl = PEAKCTL_PATH;
  SuiteGuard guard{run_name, dir, peakctl + " stop --now --config " + config_path};

  /// A small, slow stream (rate_hz events/s of 1x128x128) so that the 2-core machine keeps up.
  nlohmann::json suite_config(double rate_hz = 25) const {
    return {{"run", {{"name", run_name}, {"run_dir", run_dir}, {"log_level", "info"}}},
            {"q1", {{"slots", 16}, {"slot_bytes", 262144}}},
            {"q2", {{"slots", 64}}},  // slot_bytes derived: room for hit frames
            {"ingestd",
             {{"source", "synthetic"},
              {"endpoints", nlohmann::json::array()},
              {"synthetic", {{"shape", {1, 128, 128}}, {"events", 0}, {"rate_hz", rate_hz}}}}},
            {"inferd",
             {{"device", "cpu"},
              {"cpu_threads", 1},
              {"batch_size", 2},
              {"max_wait_ms", 20},
              {"warmup_iterations", 0},
              {"warmup_shape", {1, 128, 128}},
              {"model",
               {{"config",
                 {{"backbone_hidden_sizes", {24, 48, 96, 192}},
                  {"backbone_depths", {1, 1, 2, 1}},
                  {"bifpn_num_blocks", 2},
                  {"bifpn_num_features", 64},
                  {"seg_out_channels", 64}}},
                {"weights", tiny_weights()}}}}},
            {"writerd", {{"output_dir", out_dir}, {"events_per_file", 10}}},
            {"control", {{"metrics_port", 0}, {"ready_timeout_s", 90}, {"stop_timeout_s", 60}}}};
  }
  static std::string tiny_weights() { return PEAKNET_GOLDEN_DIR "/model/tiny.safetensors"; }

  void write_config(const nlohmann::json& cfg) { std::ofstream(config_path) << cfg.dump(2); }
  std::string ctl(const std::string& args) const {
    return "timeout 150 " + peakctl + " " + args + " --config " + config_path;
  }
  ShellResult start() {
    write_config(suite_config());
    return shell(ctl("start --no-systemd --cpu"));
  }
  nlohmann::json stats_json() { return json_in(shell(ctl("stats --once --json --interval 0.5")).out); }
  /// Counter `name` of the first daemon whose id starts with `id`; -1 when absent.
  static double counter(const nlohmann::json& stats, const std::string& id, const std::string& name) {
    for (const auto& d : stats.value("daemons", nlohmann::json::array())) {
      if (d.value("id", std::string()).rfind(id, 0) == 0 && d.contains("counters") && d["counters"].contains(name)) {
        return d["counters"][name].get<double>();
      }
    }
    return -1;
  }
  /// Waits until writerd has written at least `n` events (stream flowing end to end).
  bool wait_written(double n, std::chrono::seconds limit = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (counter(stats_json(), "writerd", "events_written") >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    return false;
  }
  size_t count_files(const std::string& d, const std::string& ext) const {
    size_t n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(d, ec)) n += e.path().extension() == ext;
    return n;
  }

 private:
  static int& sequence() {
    static int n = 0;
    return n;
  }
  static std::string make_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pk-suitectl-XXXXXX").string();
    return ::mkdtemp(tmpl.data());
  }
};

}  // namespace peaknet::test
