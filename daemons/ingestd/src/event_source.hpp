#pragma once
// EventSource: where ingestd's input comes from. One interface, three implementations, chosen by
// make_source() from `ingestd.source` (Jungfraujoch AcquisitionDevice style, as inferd's make_backend):
//   zmq        ZeroMQ PULL endpoints (zmq_source.cpp): raw messages into the decode queue
//   synthetic  generated frames (synthetic_source.cpp): events straight into Q1, no decode step
//   replay     a recording made with `--record` (replay_source.cpp): raw messages into the decode queue
//
// Contract: the constructor opens what can fail at start-up (bind/connect errors surface there);
// start() begins producing on the source's own threads; stop() stops producing and joins them
// (idempotent; a message already taken in is delivered or counted by SourceEnv::deliver). The
// supervisor thread calls update_counters() every tick; the other getters may be called from any thread.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config/ingestd_config.hpp"
#include "common/progress_monitor.hpp"
#include "ingestd/ingest_counters.hpp"
#include "ingestd/q1_writer.hpp"
#include "raw_message.hpp"

namespace peaknet::ingestd {

class EventIdAllocator;

/// What a source may use of the daemon (all owned by Ingestd, which outlives the source).
struct SourceEnv {
  const config::IngestdConfig& config;
  common::ProgressMonitor& progress;  ///< each source thread is a stage
  IngestCounters& counters;
  /// Hands one raw message to the decode queue; blocks for room (backpressure). False when the daemon
  /// stops taking messages (the message was then discarded and counted).
  std::function<bool(RawMessage&&, common::Stage&)> deliver;
  /// For sources that write events into Q1 themselves (synthetic).
  Q1Writer& q1;
  EventIdAllocator& ids;
  std::function<bool()> give_up_waiting_for_q1;      ///< true once a stop's flush deadline passed
  std::function<void()> begin_pending, end_pending;  ///< an event waiting for Q1 room is not idle time
  const std::atomic<double>& synthetic_rate_hz;      ///< live key ingestd.synthetic.rate_hz
};

class EventSource {
 public:
  virtual ~EventSource() = default;
  /// "zmq" | "synthetic" | "replay" (stats()' "source").
  virtual const char* name() const = 0;
  virtual void start() = 0;
  virtual void stop() = 0;
  /// True once a finite source produced all it will (synthetic count, replay loops): the run ends.
  virtual bool finished() const = 0;
  /// Steady ns of the latest input (0 = none yet): the idle timeout's clock.
  virtual uint64_t last_input_steady_ns() const = 0;
  /// Supervisor thread, every tick: mirrors the source's own numbers into the counter block.
  /// Returns the peers connected now (0 for sources without peers).
  virtual uint64_t update_counters() { return 0; }
  /// Endpoints as bound (tcp://0.0.0.0:<port> for tcp://*:0), in config order; empty without endpoints.
  virtual std::vector<std::string> bound_endpoints() const { return {}; }
  /// stats()' "endpoints" array (one object per endpoint).
  virtual nlohmann::json endpoints_json() const { return nlohmann::json::array(); }
};

/// The source named by env.config.source ("zmq" | "synthetic" | "replay"); std::invalid_argument
/// naming the key otherwise.
std::unique_ptr<EventSource> make_source(const SourceEnv& env);

}  // namespace peaknet::ingestd
