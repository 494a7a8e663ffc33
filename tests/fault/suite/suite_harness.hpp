#pragma once
// A whole suite as real processes for fault tests and the soak: ingestd (zmq on a loopback tcp
// endpoint) → inferd (CPU, tiny golden model) → writerd, one generated config in a temp dir, a
// pid-unique run.name, every /dev/shm segment of that name unlinked and every child SIGKILLed even
// when a test fails. The ledger and the written event ids are read from the counter blocks, rings
// and CXI files.
//
// Why tcp and not ipc: with libzmq 4.3 an ipc (AF_UNIX) peer that closes raises EPOLLHUP at once,
// even with data still unread in the socket buffer. When ingestd's pipe for that peer is at RCVHWM
// (ingestd backpressured), libzmq marks the connection broken and discards what the kernel still
// holds: a sender that exits while ingestd is not reading loses its tail silently, whatever its
// LINGER (libzmq issue #4660). A tcp FIN does not raise EPOLLHUP, so the tail is read once ingestd
// reads again. PEAKNET_FAULT_TRANSPORT=ipc runs the tests on ipc to show that loss.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <memory>
#include <set>
#include <stdexcept>
#include <string>

#include "../../integration/ingestd/ingestd_harness.hpp"
#include "writerd/cxi_file.hpp"

namespace peaknet::fault {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ingestd::testing::ChildProcess;
using ingestd::testing::eventually;
using ingestd::testing::read_counters;
using ingestd::testing::TempDir;

/// The daemons of this build; PEAKNET_SUITE_BIN_DIR (a build dir) runs another build's instead.
inline std::string binary(const std::string& daemon) {
  const char* other = std::getenv("PEAKNET_SUITE_BIN_DIR");
  const std::string build = other && *other ? other : PEAKNET_BINARY_DIR;
  if (daemon == "peaknet-pusher") return build + "/daemons/ingestd/tools/pusher/peaknet-pusher";
  return build + "/daemons/" + daemon + "/" + daemon;
}

/// A loopback tcp port free now (bound to port 0, read back, released); ingestd binds it later
/// (libzmq sets SO_REUSEADDR, so a restarted ingestd binds it again).
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket(): " + std::string(std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("no free loopback port: " + std::string(std::strerror(errno)));
  return ntohs(address.sin_port);
}

inline bool ipc_transport() {
  const char* t = std::getenv("PEAKNET_FAULT_TRANSPORT");
  return t && std::string(t) == "ipc";
}

/// Pids of live processes whose command line contains `needle` (e.g. a run's config path).
inline std::vector<pid_t> pids_with_arg(const std::string& needle) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    const std::string cmdline{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (cmdline.find(needle) != std::string::npos) out.push_back(pid_t(std::stoi(name)));
  }
  return out;
}

/// Every /dev/shm entry whose name contains `run_name`.
inline std::vector<std::string> shm_segments(const std::string& run_name) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/dev/shm", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find(run_name) != std::string::npos) out.push_back(name);
  }
  return out;
}

inline void unlink_segments(const std::string& run_name) {
  for (const auto& name : shm_segments(run_name)) ::shm_unlink(("/" + name).c_str());
}

/// received = written + filtered + dropped (every daemon's dropped_*) + evicted (rings, drop_oldest).
struct Ledger {
  uint64_t received = 0, enqueued = 0, written = 0, filtered = 0, dropped = 0, evicted = 0;
  uint64_t duplicates_skipped = 0, rejected_messages = 0, q1_requeued = 0, q2_requeued = 0;
  std::map<std::string, uint64_t> drops_by_reason;
  int64_t in_flight() const { return int64_t(received) - int64_t(written + filtered + dropped + evicted); }
  std::string describe() const {
    std::string s = "received " + std::to_string(received) + " enqueued " + std::to_string(enqueued) + " written " +
                    std::to_string(written) + " filtered " + std::to_string(filtered) + " dropped " +
                    std::to_string(dropped) + " evicted " + std::to_string(evicted) + " in_flight " +
                    std::to_string(in_flight()) + " duplicates_skipped " + std::to_string(duplicates_skipped) +
                    " rejected " + std::to_string(rejected_messages) + " requeued q1/q2 " +
                    std::to_string(q1_requeued) + "/" + std::to_string(q2_requeued);
    for (const auto& [reason, n] : drops_by_reason) s += " " + reason + "=" + std::to_string(n);
    return s;
  }
};

struct SuiteOptions {
  std::string q1_policy = "block", q2_policy = "block";
  int q1_slots = 16, q2_slots = 16;
  /// 0: the test ends the run (SIGTERM = drain). A timeout also fires while ingestd is itself
  /// blocked on a full Q1 (no input read), which ends a backpressured run early.
  int idle_timeout_s = 0;
  uint32_t image = 64;  ///< frames are image × image float32
};

class SuiteRun {
 public:
  /// ingestd's SO_RCVBUF: a fixed small tcp window (no autotuning to MBs), so that backpressure
  /// reaches the sender after a few messages, as it does on ipc.
  static constexpr int kReceiveBufferBytes = 65536;

  explicit SuiteRun(const std::string& test, SuiteOptions options = {})
      : name_("pnfault-" + std::to_string(::getpid()) + "-" + test),
        dir_(name_),
        options_(options),
        endpoint_(ipc_transport() ? "ipc://" + (dir_.path / "in.sock").string()
                                  : "tcp://127.0.0.1:" + std::to_string(free_loopback_port())) {
    unlink_segments(name_);
    const nlohmann::json model_config = {{"backbone_hidden_sizes", {24, 48, 96, 192}},
                                         {"backbone_depths", {1, 1, 2, 1}},
                                         {"bifpn_num_blocks", 2},
                                         {"bifpn_num_features", 64},
                                         {"seg_out_channels", 64}};
    const size_t slot = 4096 + size_t(options.image) * options.image * 4;
    const nlohmann::json config = {
        {"run", {{"name", name_}, {"log_level", "warn"}, {"run_dir", (dir_.path / "run").string()}}},
        {"q1", {{"slots", options.q1_slots}, {"slot_bytes", slot}, {"policy", options.q1_policy}}},
        {"q2", {{"slots", options.q2_slots}, {"policy", options.q2_policy}}},  // slot_bytes: derived
        {"peaks", {{"min_num_peak", 0}, {"max_num_peak", 256}}},               // every event is a hit: ids checkable
        {"ingestd",
         {{"source", "zmq"},
          {"endpoints", {{{"url", endpoint()}, {"mode", "bind"}, {"rcvbuf_bytes", kReceiveBufferBytes}}}},
          {"decode_threads", 1},
          {"idle_timeout_s", options.idle_timeout_s}}},
        {"inferd",
         {{"device", "cpu"},
          {"batch_size", 4},
          {"max_wait_ms", 10},
          {"cpu_threads", 1},
          {"warmup_iterations", 0},
          {"model", {{"config", model_config}, {"weights", PEAKNET_GOLDEN_DIR "/model/tiny.safetensors"}}}}},
        {"writerd",
         {{"output_dir", output_dir().string()}, {"events_per_file", 8}, {"max_file_age_ms", 300}, {"fsync", "none"}}},
        {"control", {{"metrics_port", 0}}}};
    std::ofstream(config_path()) << config.dump(2);
  }
  ~SuiteRun() {
    children_.clear();  // SIGKILL + reap before the segments go
    unlink_segments(name_);
  }
  SuiteRun(const SuiteRun&) = delete;
  SuiteRun& operator=(const SuiteRun&) = delete;

  const std::string& name() const { return name_; }
  const std::string& endpoint() const { return endpoint_; }
  fs::path config_path() const { return dir_.path / "suite.json"; }
  fs::path output_dir() const { return dir_.path / "out"; }
  fs::path dir() const { return dir_.path; }

  /// Starts one daemon (ingestd / inferd / writerd); log in <dir>/<daemon>-<n>.log.
  ChildProcess& start(const std::string& daemon, const std::vector<std::string>& sets = {}) {
    std::vector<std::string> argv{binary(daemon), "--config", config_path().string()};
    for (const auto& s : sets) {
      argv.push_back("--set");
      argv.push_back(s);
    }
    return spawn(argv, daemon);
  }
  /// peaknet-pusher with `args` after the endpoint (LINGER -1: the test wants every message delivered).
  ChildProcess& push(const std::vector<std::string>& args) {
    std::vector<std::string> argv{binary("peaknet-pusher"), "-e", endpoint(), "--linger", "-1"};
    argv.insert(argv.end(), args.begin(), args.end());
    return spawn(argv, "pusher");
  }
  std::string log_text(const std::string& what) const {
    std::string all;
    for (const auto& e : fs::directory_iterator(dir_.path)) {
      const std::string n = e.path().filename().string();
      if (n.rfind(what, 0) == 0 && e.path().extension() == ".log")
        all += "--- " + n + "\n" + ingestd::testing::read_text(e.path());
    }
    return all;
  }

  std::map<std::string, uint64_t> counters(const std::string& daemon) const {
    return read_counters(name_ + "-stats-" + daemon);
  }
  uint64_t counter(const std::string& daemon, const std::string& key) const {
    const auto c = counters(daemon);
    const auto it = c.find(key);
    return it == c.end() ? 0 : it->second;
  }
  /// Counters of a ring ("q1" / "q2"), empty when it does not exist.
  std::optional<shm::RingCounters> ring(const std::string& q) const {
    try {
      if (shm::Ring::exists(name_ + "-" + q)) return shm::Ring::attach(name_ + "-" + q).counters();
    } catch (const std::exception&) {}
    return std::nullopt;
  }

  Ledger ledger() const {
    Ledger l;
    l.received = counter("ingestd", "events_received");
    l.enqueued = counter("ingestd", "events_enqueued");
    l.rejected_messages = counter("ingestd", "messages_rejected");
    l.written = counter("writerd", "events_written");
    l.filtered = counter("writerd", "events_filtered");
    l.duplicates_skipped = counter("writerd", "duplicates_skipped");
    const std::string prefix = name_ + "-stats-";  // ingestd, writerd, inferd-<instance>
    for (const auto& segment : shm_segments(name_)) {
      if (segment.rfind(prefix, 0) != 0) continue;
      const std::string daemon = segment.substr(prefix.size());
      for (const auto& [key, value] : read_counters(segment)) {
        if (key.rfind("dropped_", 0) != 0 || value == 0) continue;
        l.dropped += value;
        l.drops_by_reason[daemon + ":" + key.substr(8)] += value;
      }
    }
    for (const std::string q : {"q1", "q2"}) {
      if (const auto c = ring(q)) {
        const uint64_t evicted = c->dropped[size_t(shm::DropReason::kEvictedOldest)];
        l.evicted += evicted;
        if (evicted) l.drops_by_reason[q + ":evicted_oldest"] = evicted;
        (q == "q1" ? l.q1_requeued : l.q2_requeued) = c->requeued;
      }
    }
    return l;
  }

  /// Event ids of every completed CXI file, in file order (duplicates kept).
  std::vector<uint64_t> written_ids() const {
    std::vector<uint64_t> ids;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(output_dir(), ec)) {
      if (e.path().extension() != ".cxi") continue;
      for (uint64_t id : writerd::CxiFile::read_event_ids(e.path().string())) ids.push_back(id);
    }
    return ids;
  }

  /// (ingest_epoch, event_id) of every row of every completed CXI file (duplicates kept).
  std::vector<writerd::EventKey> written_keys() const {
    std::vector<writerd::EventKey> keys;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(output_dir(), ec)) {
      if (e.path().extension() != ".cxi") continue;
      for (const auto& key : writerd::CxiFile::read_event_keys(e.path().string())) keys.push_back(key);
    }
    return keys;
  }

  /// Waits for every daemon started so far to exit; true when each exited 0.
  bool wait_all(std::chrono::milliseconds timeout, std::string* why = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool ok = true;
    for (auto& [what, child] : children_) {
      if (what == "pusher" || !child->tracked) continue;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      const auto rc = child->process.wait(std::max(left, 0ms));
      if (rc != 0) {
        ok = false;
        if (why) *why += what + (rc ? " exited " + std::to_string(*rc) : std::string(" still running")) + "; ";
      }
    }
    return ok;
  }
  /// A killed child is not waited for by wait_all().
  void forget(ChildProcess& process) {
    for (auto& [what, child] : children_)
      if (&child->process == &process) child->tracked = false;
  }

 private:
  struct Tracked {
    ChildProcess process;
    bool tracked = true;
    Tracked(std::vector<std::string> argv, const fs::path& log) : process(std::move(argv), log) {}
  };
  ChildProcess& spawn(const std::vector<std::string>& argv, const std::string& what) {
    const fs::path log = dir_.path / (what + "-" + std::to_string(children_.size()) + ".log");
    children_.emplace_back(what, std::make_unique<Tracked>(argv, log));
    return children_.back().second->process;
  }

  std::string name_;
  TempDir dir_;
  SuiteOptions options_;
  std::string endpoint_;
  std::vector<std::pair<std::string, std::unique_ptr<Tracked>>> children_;
};

}  // namespace peaknet::fault
