#pragma once
// Test harness for ingestd integration tests: child processes that are always killed, pid-unique
// shm names that are always unlinked, temp dirs that are always removed, and a Q1 reader that
// collects every event (header + SHA-256 or pattern check of its payload).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "shm/counter_block.hpp"
#include "shm/event_layout.hpp"
#include "shm/ring.hpp"

extern char** environ;

namespace peaknet::ingestd::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string unique_name(const std::string& test) {
  static int serial = 0;
  return "pntest-" + std::to_string(::getpid()) + "-" + test + "-" + std::to_string(serial++);
}

/// A temp dir, removed with everything in it.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) : path(fs::temp_directory_path() / name) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// The shm segments of one suite instance (run.name); unlinked on destruction.
struct ShmGuard {
  std::string run_name;
  explicit ShmGuard(std::string name) : run_name(std::move(name)) { unlink_all(); }
  ~ShmGuard() { unlink_all(); }
  std::string q1() const { return run_name + "-q1"; }
  std::string counters() const { return run_name + "-stats-ingestd"; }
  void unlink_all() const {
    shm::Ring::unlink(q1());
    shm::CounterBlock::unlink(counters());
  }
};

/// A child process, SIGKILLed and reaped on destruction if still running.
class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> argv, const fs::path& log = {}) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (!log.empty()) {
      posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      posix_spawn_file_actions_adddup2(&actions, 1, 2);
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ChildProcess() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  bool running() {
    if (pid_ <= 0 || exit_code_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return false;
    }
    return true;
  }
  /// Exit code, or nullopt when it is still running after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    return running() ? std::nullopt : exit_code_;
  }
  void signal(int signo) {
    if (running()) ::kill(pid_, signo);
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

inline std::string ingestd_binary() { return std::string(PEAKNET_BINARY_DIR) + "/daemons/ingestd/ingestd"; }
inline std::string pusher_binary() {
  return std::string(PEAKNET_BINARY_DIR) + "/daemons/ingestd/tools/pusher/peaknet-pusher";
}

/// One test's suite instance: run name, its shm segments, its temp dir (endpoints and logs live there).
struct InstanceFixture {
  std::string name;
  ShmGuard shm;
  TempDir dir;
  explicit InstanceFixture(const std::string& test) : name(unique_name(test)), shm(name), dir(name) {}
  std::string endpoint(int i = 0) const {
    return "ipc://" + (dir.path / ("in" + std::to_string(i) + ".sock")).string();
  }
  fs::path socket_file(int i = 0) const { return dir.path / ("in" + std::to_string(i) + ".sock"); }
  fs::path log(const std::string& what) const { return dir.path / (what + ".log"); }
};

/// Writes a suite config for one test instance and returns its path.
inline fs::path write_config(const TempDir& dir, const std::string& run_name, const nlohmann::json& q1,
                             const nlohmann::json& ingestd) {
  const nlohmann::json config = {
      {"run", {{"name", run_name}, {"run_dir", (dir.path / "run").string()}}}, {"q1", q1}, {"ingestd", ingestd}};
  const fs::path path = dir.path / "config.json";
  std::ofstream(path) << config.dump(2);
  return path;
}

inline std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Waits until `predicate` or the timeout; returns the predicate's last value.
template <typename F>
bool eventually(F predicate, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

/// One event read back from Q1.
struct Q1Event {
  shm::EventHeader header;
  std::vector<std::byte> payload;
};

/// Reads Q1 until its producers finished (or the timeout); attaches once the segment exists.
inline std::vector<Q1Event> read_q1_until_finished(const std::string& name, std::chrono::milliseconds timeout) {
  std::vector<Q1Event> events;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!shm::Ring::exists(name)) {
    if (std::chrono::steady_clock::now() >= deadline) return events;
    std::this_thread::sleep_for(20ms);
  }
  std::optional<shm::Ring> maybe_ring;
  while (!maybe_ring) {  // the segment may exist before its creator finished writing the header
    try {
      maybe_ring.emplace(shm::Ring::attach(name));
    } catch (const shm::ShmError&) {
      if (std::chrono::steady_clock::now() >= deadline) return events;
      std::this_thread::sleep_for(20ms);
    }
  }
  auto& ring = *maybe_ring;
  std::vector<shm::ReadSlot> batch;
  while (std::chrono::steady_clock::now() < deadline) {
    batch.clear();
    if (ring.claim(batch, 16, 100ms) == 0) {
      if (ring.finished()) break;
      continue;
    }
    for (auto& slot : batch) {
      Q1Event e;
      std::memcpy(&e.header, slot.data(), sizeof e.header);
      const auto* payload = slot.data() + shm::kPayloadOffset;
      e.payload.assign(payload, payload + e.header.payload_bytes);
      events.push_back(std::move(e));
      ring.release(std::move(slot));
    }
  }
  return events;
}

/// Counters of an ingestd run, read from its shm CounterBlock (it outlives the process).
/// Empty while the block does not exist yet.
inline std::map<std::string, uint64_t> read_counters(const std::string& block) {
  std::map<std::string, uint64_t> out;
  try {
    for (const auto& [name, value] : shm::CounterBlock::attach(block).snapshot()) out[name] = value;
  } catch (const shm::ShmError&) {}
  return out;
}

}  // namespace peaknet::ingestd::testing
