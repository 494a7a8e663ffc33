#pragma once
// What a node can say about delivery (docs/OPERATIONS.md "What a node's death loses"): producer
// connections seen by ingestd's socket monitor, events and messages a dead ingestd took with it
// (booked by its successor), and the producer sequence numbers — per producer, the events this node
// received and the highest sequence + 1 it saw. One node's gap is not a loss (the producer also sent
// to other nodes); the fleet view sums the nodes (fleet_view.hpp).
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "stats_snapshot.hpp"

namespace peaknet::ctl {

struct ProducerCount {
  double events = 0;    ///< events received carrying this producer's sequence numbers
  double next_seq = 0;  ///< highest sequence number seen + 1
};

struct Delivery {
  double peers_connected = 0, peer_connects = 0, peer_disconnects = 0;
  double events_lost_in_crash = 0, messages_lost_in_crash = 0;
  double seq_events = 0, seq_untracked_events = 0;
  std::map<std::string, ProducerCount> producers;  ///< by producer id
  double seq_expected() const;                     ///< sum of next_seq
  double seq_not_seen() const { return seq_expected() - (seq_events - seq_untracked_events); }
};

/// From ingestd's counters in `s` (every ingestd of the snapshot summed).
Delivery delivery_of(const Snapshot& s);
nlohmann::json delivery_json(const Delivery& d);
/// One or two lines for the stats table ("" when ingestd reported nothing of it).
std::string delivery_lines(const Delivery& d);
/// The per-connection table ingestd keeps (its "stats" reply: endpoints[].peer_table), as lines.
std::string peer_table_lines(const nlohmann::json& ingestd_stats, size_t max_rows = 12);

}  // namespace peaknet::ctl
