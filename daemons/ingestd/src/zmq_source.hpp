#pragma once
// ZmqSource: one ZmqReceiver (PULL socket + receive thread) per configured endpoint, sharing one
// ZeroMQ context. Counts per endpoint into the counter block ("endpoint.<i>.*") and mirrors the
// receivers' peer numbers there.
#include <memory>
#include <vector>

#include <zmq.hpp>

#include "event_source.hpp"
#include "zmq_receiver.hpp"

namespace peaknet::ingestd {

class ZmqSource final : public EventSource {
 public:
  /// Binds/connects every endpoint (std::runtime_error naming the endpoint).
  explicit ZmqSource(const SourceEnv& env);
  ~ZmqSource() override;

  const char* name() const override { return "zmq"; }
  void start() override;
  void stop() override;
  bool finished() const override { return false; }
  uint64_t last_input_steady_ns() const override;
  uint64_t update_counters() override;
  std::vector<std::string> bound_endpoints() const override;
  nlohmann::json endpoints_json() const override;

 private:
  void mirror_peer_counters();  ///< receivers' connect/disconnect counts into the counter block

  SourceEnv env_;
  zmq::context_t context_;              ///< before the receivers: their sockets close first
  std::vector<size_t> endpoint_index_;  ///< receiver i's entry in counters.endpoint()
  std::vector<std::unique_ptr<ZmqReceiver>> receivers_;
  uint64_t mirrored_connects_ = 0, mirrored_disconnects_ = 0;  ///< supervisor thread only
};

}  // namespace peaknet::ingestd
