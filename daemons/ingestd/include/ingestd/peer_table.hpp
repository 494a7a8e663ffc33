#pragma once
// PeerTable: what each connected producer (one ZeroMQ connection = one lclstreamer rank) delivered to
// one endpoint. The socket monitor reports connects and disconnects with the connection's file
// descriptor; each received message carries the descriptor it was read from (ZMQ_SRCFD) and the peer's
// IP (the "Peer-Address" property), so messages are attributed to the connection, named "ip:port".
// ZeroMQ tells nothing about what a peer queued but never delivered: loss is seen through the producer
// sequence numbers (ProducerLedger), not here.
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace peaknet::ingestd {

struct PeerRecord {
  std::string address;  ///< "ip:port" of the producer's end (or the Peer-Address / "fd N")
  int fd = -1;
  uint64_t connected_ns = 0;     ///< realtime; 0 when first seen through a message
  uint64_t disconnected_ns = 0;  ///< realtime; 0 while connected
  uint64_t messages = 0, bytes = 0;
};

class PeerTable {
 public:
  /// Disconnected peers kept for stats(); older ones are folded into the retired totals.
  static constexpr size_t kMaxDisconnected = 64;

  /// Thread-safe; the monitor and the message path run on the receive thread, stats() on another.
  void connected(int fd, uint64_t now_ns);
  /// Returns the peer's record as it was at disconnect (for the log line).
  PeerRecord disconnected(int fd, uint64_t now_ns);
  void message(int fd, const char* peer_address, uint64_t bytes);

  /// {"connected":[...], "disconnected":[...], "retired":{"peers","messages","bytes"}}.
  nlohmann::json to_json() const;

 private:
  PeerRecord* find_live(int fd);
  void retire_overflow();

  mutable std::mutex mutex_;
  std::deque<PeerRecord> live_, gone_;
  uint64_t retired_peers_ = 0, retired_messages_ = 0, retired_bytes_ = 0;
};

/// "ip:port" of the other end of socket `fd`, or "" when it has none (closed, not a socket, ipc).
std::string socket_peer_name(int fd);

}  // namespace peaknet::ingestd
