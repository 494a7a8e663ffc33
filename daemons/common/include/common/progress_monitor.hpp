#pragma once
// ProgressMonitor: is every worker thread of a daemon making progress or legitimately waiting?
// DaemonRuntime pets the systemd watchdog only while the answer is yes, and a daemon that holds events
// without progress for longer than `control.stall_timeout_s` reports a stall: state "stalled" in
// `peakctl status`/`stats`, counter "stalls" and gauge "stalled" in its counter block, one log line
// naming the stage ("decode thread 3 stuck for 31 s in q1 acquire").
//
// Every worker thread owns one Stage and says what it is doing (string literals only: kept as pointers):
//   idle("waiting for input")    nothing in hand, waiting for input — legitimate for ever
//   blocked("q1 acquire")        events in hand, waiting for room downstream (backpressure) — legitimate
//                                while the thread keeps coming back (beat() per wait slice) and every
//                                watched ring is still linked
//   busy("decode")               events in hand, working — must make progress within the timeout
//   progress()                   an event (or unit of work) went through
//   beat()                       a wait slice passed: the thread is not wedged
//   done()                       the thread ended
// A thread that stops coming back (asleep in a syscall, deadlocked, spinning inside a library) freezes
// its stage's clock, so after the timeout it is reported stuck whatever it last said it was doing.
// Watched rings (watch_ring) are checked about once a second: a segment unlinked or replaced under the
// process (Ring::link_problem) is a stall at once — waiting on it would last for ever (issue 20).
//
// Thread safety: Stage methods are lock-free (atomics); check() and the registration calls may run on
// any thread. Stages live as long as the monitor (stable addresses).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace peaknet::common {

class ProgressMonitor;

class Stage {
 public:
  /// kNotStarted until the thread first reports (a stage made before its thread runs is not judged).
  enum class Kind : uint8_t { kNotStarted, kIdle, kBlocked, kBusy, kDone };

  void idle(const char* what) noexcept { set(Kind::kIdle, what); }
  void blocked(const char* what) noexcept { set(Kind::kBlocked, what); }
  void busy(const char* what) noexcept { set(Kind::kBusy, what); }
  void done() noexcept { set(Kind::kDone, "done"); }
  void progress() noexcept;
  void beat() noexcept;

  const std::string& name() const { return name_; }

 private:
  friend class ProgressMonitor;
  explicit Stage(std::string name);
  void set(Kind kind, const char* what) noexcept;

  std::string name_;
  std::atomic<Kind> kind_{Kind::kNotStarted};
  std::atomic<const char*> what_{"starting"};
  std::atomic<int64_t> since_ns_;     ///< steady ns when kind/what last changed
  std::atomic<int64_t> beat_ns_;      ///< last sign of life from the thread
  std::atomic<int64_t> progress_ns_;  ///< last event through
};

/// The answer of one check().
struct StallReport {
  bool stalled = false;
  std::string stage;     ///< "decode thread 3", or the ring label ("q1") for a ring problem
  std::string activity;  ///< what it was doing ("q1 acquire")
  double seconds = 0;    ///< how long without progress / a sign of life
  std::string message;   ///< one line for logs and status ("decode thread 3 stuck for 31 s in q1 acquire")
};

class ProgressMonitor {
 public:
  explicit ProgressMonitor(std::chrono::milliseconds stall_timeout = std::chrono::seconds(30));
  ProgressMonitor(const ProgressMonitor&) = delete;
  ProgressMonitor& operator=(const ProgressMonitor&) = delete;

  /// A new stage ("receive endpoint 0", "decode thread 3", "compute", "write"); judged from its first report.
  Stage& add_stage(std::string name);
  /// A ring to check: `problem()` returns "" or why the ring is unusable (Ring::link_problem).
  void watch_ring(std::string label, std::function<std::string()> problem);
  /// Where the monitor counts: stall episodes (counter) and whether one is going on (gauge 0/1).
  void count_into(std::atomic<uint64_t>* stalls, std::atomic<uint64_t>* stalled);

  /// Evaluates every stage and ring now; updates the counters and logs a stall's start (error) and end
  /// (info) once each. Call it periodically (DaemonRuntime does, ~4x a second).
  StallReport check();
  /// The last report of check() (for stats / status from other threads).
  StallReport last() const;
  std::chrono::milliseconds stall_timeout() const { return stall_timeout_; }

 private:
  StallReport evaluate(int64_t now_ns);

  std::chrono::milliseconds stall_timeout_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Stage>> stages_;  // stable addresses
  struct WatchedRing {
    std::string label;
    std::function<std::string()> problem;
  };
  std::vector<WatchedRing> rings_;
  std::string ring_problem_;  // cached: rings are checked at most once a second
  std::string ring_label_;
  int64_t ring_checked_ns_ = 0;
  std::atomic<uint64_t>* stalls_ = nullptr;
  std::atomic<uint64_t>* stalled_ = nullptr;
  StallReport last_;
};

/// Test-only fault hook: the stage named by PEAKNET_TEST_WEDGE ("receive", "decode", "compute",
/// "write") sleeps for ever when the daemon reaches it with an event. Empty (off) in production.
/// Documented in docs/ctl.md; the watchdog tests use it to show that a wedged thread stops the pets.
bool test_wedge_requested(const char* stage);
/// Sleeps for ever (the wedge); never returns.
[[noreturn]] void test_wedge_forever(const char* stage);

}  // namespace peaknet::common
