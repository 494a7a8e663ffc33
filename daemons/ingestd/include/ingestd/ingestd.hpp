#pragma once
// Ingestd: the ingest daemon as a library (a common::Daemon: main.cpp runs it through run_daemon_main(),
// tests and benchmarks drive it directly).
// An EventSource (ZeroMQ PULL endpoints, synthetic frames or replay of a recording; src/event_source.hpp)
// -> bounded decode queue -> decode pool (ingest::Decoder, one per thread) -> Q1EventSink -> Q1.
// See docs/ingestd.md.
//
// Threads: one receive thread per endpoint (or one synthetic / replay thread), `decode_threads`
// decoders, and the caller of run(), which supervises (idle timeout, end of stream, "waiting for
// data" lines, gauges, the hooks' ticks). stats(), the live_keys() entries, request_drain() and request_stop()
// may be called from any thread (control plane, signal watcher) while run() is in progress.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config/suite_config.hpp"
#include "common/daemon.hpp"
#include "common/live_keys.hpp"
#include "common/progress_monitor.hpp"
#include "common/rate_meter.hpp"
#include "ingest/decode/decoder_options.hpp"
#include "ingest/decode/simplon_session.hpp"
#include "ingestd/ingest_counters.hpp"
#include "ingestd/q1_writer.hpp"

namespace peaknet::ingestd {

// Internals (daemons/ingestd/src/): kept out of this header, so users do not compile ZeroMQ.
template <typename T>
class BoundedQueue;
struct RawMessage;
class EventIdAllocator;
class EventSource;
class MessageRecorder;
class Quarantine;

/// Why run() returned.
enum class EndReason : uint8_t { kNone, kSourceFinished, kIdleTimeout, kSimplonEnd, kDrain, kStop };
const char* to_string(EndReason reason) noexcept;

class Ingestd : public common::Daemon {
 public:
  /// Opens Q1, the counter block and every endpoint (bind/connect errors surface here). Throws
  /// std::runtime_error / config::ConfigError / shm::ShmError naming what failed.
  explicit Ingestd(config::SuiteConfig config);
  ~Ingestd() override;
  Ingestd(const Ingestd&) = delete;
  Ingestd& operator=(const Ingestd&) = delete;

  /// Receives and decodes until the run ends (finite source done, idle timeout, Simplon end, drain or
  /// stop), flushes the decode queue into Q1 and calls finish_producing(). Reports kReady once its
  /// threads run; `hooks.tick` runs on the calling thread every ~50 ms. Returns 0 (end_reason() says why).
  int run(const common::RunHooks& hooks = {}) override;
  /// Why run() ended (kNone while it runs).
  EndReason end_reason() const noexcept { return end_reason_.load(); }
  /// One line for systemctl / peakctl status: "312 ev/s, q1 12/64, drops 0, rejects 0" (the rate over the
  /// time since the previous call).
  std::string status_line() override;

  nlohmann::json stats() const override;
  /// ingestd's live keys (for DaemonRuntime): q1.policy, ingestd.synthetic.rate_hz.
  common::LiveKeys live_keys() override;
  /// Stop taking input; everything received is decoded into Q1 (waiting for room as long as needed).
  void request_drain() override;
  /// Stop taking input; flush into Q1 for at most stop_flush_timeout_s, then drop (counted).
  void request_stop() override;

  /// Endpoints as bound (tcp://0.0.0.0:<port> for tcp://*:0), in config order.
  std::vector<std::string> bound_endpoints() const;
  const IngestCounters& counters() const { return *counters_; }
  /// Receive, decode and source threads as ProgressMonitor stages, Q1 watched (DaemonRuntime::watch).
  common::ProgressMonitor& progress() override { return progress_; }
  const std::string& q1_name() const { return q1_->name(); }

 private:
  bool deliver(RawMessage&& message, common::Stage& stage);
  void decode_loop(size_t thread_index, common::Stage& stage);
  void supervise(const std::function<void()>& tick);
  bool give_up_waiting_for_q1() const;
  void end_run(EndReason reason);
  /// Latest steady ns with input or pending work (`now` while any message or frame is pending).
  uint64_t last_activity_steady_ns(uint64_t now) const;
  void hold(uint64_t bytes);  ///< a message taken off a socket: in the held gauges until decoded
  void unhold(uint64_t bytes);
  void begin_pending();
  void end_pending();

  config::SuiteConfig config_;
  common::ProgressMonitor progress_;  ///< before every thread and receiver that reports into it
  ingest::DecoderOptions decoder_options_;
  std::shared_ptr<ingest::SimplonSession> simplon_session_;
  std::unique_ptr<IngestCounters> counters_;
  std::unique_ptr<Q1Writer> q1_;
  std::unique_ptr<EventIdAllocator> ids_;
  std::unique_ptr<BoundedQueue<RawMessage>> queue_;
  std::unique_ptr<MessageRecorder> recorder_;
  std::unique_ptr<Quarantine> quarantine_;
  std::vector<std::thread> decoders_;

  std::atomic<EndReason> end_reason_{EndReason::kNone};
  std::atomic<bool> simplon_end_{false};
  std::atomic<uint64_t> stop_deadline_ns_{0};  ///< steady ns after which Q1 waits give up (0 = never)
  /// Messages taken in but not yet fully decoded (queued, decoding, or waiting for Q1 room), plus a
  /// synthetic frame waiting for its slot. Nonzero means "not idle" for the idle timeout.
  std::atomic<uint64_t> pending_{0};
  std::atomic<uint64_t> last_pending_end_ns_{0};
  std::atomic<double> synthetic_rate_hz_{0.0};
  uint64_t start_steady_ns_ = 0;
  std::unique_ptr<EventSource> source_;  ///< last: stopped and destroyed before what it delivers into
  common::RateMeter status_rate_;        ///< status_line()'s events/s
};

}  // namespace peaknet::ingestd
