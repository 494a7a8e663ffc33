#pragma once
// ZmqReceiver: one PULL socket (bind or connect) and the thread that receives from it.
// The thread hands each message to `deliver` (which may block: that is the backpressure path, the
// socket is simply not read while it does) and watches a socket monitor to count connected peers and
// attribute every message to the connection it came from (PeerTable).
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "common/config/ingestd_config.hpp"
#include "common/progress_monitor.hpp"
#include "ingestd/peer_table.hpp"
#include "raw_message.hpp"

namespace peaknet::ingestd {

/// Per-endpoint counters (read by stats() from any thread).
struct EndpointCounters {
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<int64_t> peers{0};             ///< currently connected (monitor: accepted/connected - disconnected)
  std::atomic<uint64_t> peers_total{0};      ///< connections seen since start
  std::atomic<uint64_t> disconnects{0};      ///< disconnections seen since start
  std::atomic<uint64_t> blocked_ns{0};       ///< time spent waiting for room downstream (backpressure)
  std::atomic<uint64_t> last_message_ns{0};  ///< steady clock of the last message (0 = none yet)
};

class ZmqReceiver {
 public:
  /// Called on the receive thread for every message. Returns false when the daemon is stopping
  /// (the message is then discarded and counted by the caller).
  using Deliver = std::function<bool(RawMessage&&)>;

  /// Opens the socket (bind/connect happens here so address errors surface at startup; throws
  /// std::runtime_error naming the endpoint). `stage` (may be null) is told what the receive thread does:
  /// idle while the socket is empty, busy while a message is handed on (`deliver` reports its own waits).
  ZmqReceiver(zmq::context_t& context, const config::IngestdEndpointConfig& endpoint, uint32_t source_id,
              int64_t max_message_bytes, Deliver deliver, common::Stage* stage = nullptr);
  ~ZmqReceiver();
  ZmqReceiver(const ZmqReceiver&) = delete;
  ZmqReceiver& operator=(const ZmqReceiver&) = delete;

  void start();
  /// Stops receiving (the socket is closed on the receive thread); joins.
  void stop();

  const EndpointCounters& counters() const { return counters_; }
  const PeerTable& peers() const { return peers_; }
  const std::string& url() const { return url_; }
  /// The endpoint actually bound (resolves tcp://*:0 to the chosen port).
  const std::string& bound_url() const { return bound_url_; }
  uint32_t source_id() const { return source_id_; }

 private:
  void run();
  void drain_monitor();

  zmq::socket_t socket_;
  zmq::socket_t monitor_;
  std::string url_, bound_url_;
  uint32_t source_id_;
  Deliver deliver_;
  common::Stage* stage_;
  EndpointCounters counters_;
  PeerTable peers_;
  uint64_t next_message_id_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace peaknet::ingestd
