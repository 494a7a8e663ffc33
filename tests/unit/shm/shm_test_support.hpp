#pragma once
// Test support for libshm: unique segment names, unlink guards, the event record the worker writes,
// and fork/exec of the worker executable (tests/unit/shm/shm_ring_worker.cpp).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "shm/counter_block.hpp"
#include "shm/ring.hpp"

namespace peaknet::shm::testing {

/// Event counts of the multi-process tests times PEAKNET_TEST_SCALE (sanitizer builds run at 0.2).
inline int64_t scaled(int64_t n) {
  const char* s = std::getenv("PEAKNET_TEST_SCALE");
  const double f = s != nullptr ? std::atof(s) : 1.0;
  return f > 0 ? std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(n) * f)) : n;
}

/// "pktest-<pid>-<test name>-<n>": unique per process and test, so parallel ctest runs never collide.
inline std::string unique_name(const std::string& what = "") {
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = info != nullptr ? std::string(info->name()) : "none";
  for (char& c : test) {
    if (c == '/') c = '_';
  }
  return "pktest-" + std::to_string(::getpid()) + "-" + test.substr(0, 60) + "-" + what + std::to_string(counter++);
}

/// A small ring (`slots` x one page, policy block) for tests that exercise lifecycle, not throughput.
inline RingOptions small_ring(const std::string& name, uint32_t slots = 4) {
  RingOptions o;
  o.name = name;
  o.slot_count = slots;
  o.slot_bytes = 4096;
  return o;
}

/// Unlinks the segment when the test ends, passed or failed (and before it starts).
class ShmGuard {
 public:
  explicit ShmGuard(std::string name) : name_(std::move(name)) { Ring::unlink(name_); }
  ~ShmGuard() { Ring::unlink(name_); }
  ShmGuard(const ShmGuard&) = delete;
  ShmGuard& operator=(const ShmGuard&) = delete;
  const std::string& name() const { return name_; }
  operator const std::string&() const { return name_; }

 private:
  std::string name_;
};

/// What the worker writes at slot offset 0; the payload (payload_bytes) follows.
struct EventRecord {
  uint64_t producer_id;
  uint64_t sequence;
  uint64_t payload_bytes;
  uint64_t checksum;  ///< fnv1a over producer_id, sequence and the payload
};

inline uint64_t fnv1a(const void* data, size_t n, uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

inline uint64_t record_checksum(const EventRecord& r, const std::byte* payload) {
  uint64_t h = fnv1a(&r.producer_id, sizeof r.producer_id);
  h = fnv1a(&r.sequence, sizeof r.sequence, h);
  return fnv1a(payload, r.payload_bytes, h);
}

/// Fills payload deterministically from (producer, sequence) and writes the record.
inline void write_event(std::byte* slot, uint64_t producer, uint64_t sequence, uint64_t payload_bytes) {
  EventRecord r{producer, sequence, payload_bytes, 0};
  std::byte* payload = slot + sizeof(EventRecord);
  uint64_t x = producer * 0x9E3779B97F4A7C15ull + sequence + 1;
  for (uint64_t i = 0; i < payload_bytes; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    payload[i] = static_cast<std::byte>(x);
  }
  r.checksum = record_checksum(r, payload);
  std::memcpy(slot, &r, sizeof r);
}

/// true when the slot holds a complete, uncorrupted record.
inline bool event_valid(const std::byte* slot, size_t slot_bytes, EventRecord* out = nullptr) {
  EventRecord r;
  std::memcpy(&r, slot, sizeof r);
  if (r.payload_bytes > slot_bytes - sizeof r) return false;
  if (out != nullptr) *out = r;
  return record_checksum(r, slot + sizeof r) == r.checksum;
}

/// What a consumer delivered: (producer, sequence) pairs in claim order, from its output file.
struct Delivery {
  uint64_t producer;
  uint64_t sequence;
};
inline std::vector<Delivery> read_deliveries(const std::string& path) {
  std::vector<Delivery> out;
  std::ifstream in(path, std::ios::binary);
  Delivery d;
  while (in.read(reinterpret_cast<char*>(&d), sizeof d)) out.push_back(d);
  return out;
}

/// fork + exec of the worker with args; returns the child's pid.
inline pid_t spawn_worker(const std::vector<std::string>& args) {
  std::vector<std::string> all{SHM_RING_WORKER};
  all.insert(all.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

/// Waits for pid; returns its exit status (128 + signal when killed), -1 after timeout (then kills it).
inline int wait_worker(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return -2;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

/// Kills every pid still running when the test ends (a failing ASSERT must not leave workers behind).
class WorkerReaper {
 public:
  ~WorkerReaper() {
    for (pid_t p : pids_) {
      if (::kill(p, 0) == 0) ::kill(p, SIGKILL);
      int st;
      ::waitpid(p, &st, WNOHANG);
    }
  }
  pid_t add(pid_t p) {
    pids_.push_back(p);
    return p;
  }

 private:
  std::vector<pid_t> pids_;
};

/// Temporary file path unique to this process and test; removed by the guard.
class TempFile {
 public:
  explicit TempFile(const std::string& what) : path_(::testing::TempDir() + unique_name(what) + ".bin") {
    std::remove(path_.c_str());
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace peaknet::shm::testing
