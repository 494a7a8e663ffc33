#pragma once
// `peakctl stats --fleet HOST:PORT ...`: the ledgers of several nodes summed, read from each node's
// metrics endpoint (/metrics of `peakctl metrics` or the supervisor). With producer sequence numbers
// it compares with what the producers sent, as far as the wire shows it: per producer the highest
// sequence seen on any node + 1 (= events it sent up to its last one that arrived somewhere) minus the
// events every node received from it = events lost on the way (in a dead node's socket buffers, in
// its ingestd's memory, dropped by the producer's LINGER 0, ...). Events after a producer's last
// delivered one are invisible here: compare with the producer's own count.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace peaknet::ctl {

struct NodeReading {
  std::string node;                      ///< HOST:PORT as given
  std::string error;                     ///< empty when read
  std::map<std::string, double> ledger;  ///< column -> events (received, written, ...)
  double events_lost_in_crash = 0, messages_lost_in_crash = 0, seq_events = 0, peers_connected = 0;
  std::map<std::string, double> producer_events, producer_next_seq;  ///< by producer id
};

/// Parses one node's Prometheus text (the families prometheus_text() writes).
NodeReading parse_node_metrics(const std::string& node, const std::string& text);

struct FleetTotals {
  std::map<std::string, double> ledger;
  double events_lost_in_crash = 0, messages_lost_in_crash = 0, seq_events = 0;
  double producers = 0, seq_sent_seen = 0;  ///< sum over producers of max next_seq
  double seq_received = 0;                  ///< sum over producers and nodes of events
  double lost_in_transit() const { return seq_sent_seen - seq_received; }
};
FleetTotals sum_fleet(const std::vector<NodeReading>& nodes);

nlohmann::json fleet_json(const std::vector<NodeReading>& nodes, const FleetTotals& t);
std::string fleet_table(const std::vector<NodeReading>& nodes, const FleetTotals& t);

/// GETs http://node/metrics for each node (2 s timeout each) and prints the table (or JSON).
/// Exit: 0 every node read, 1 some could not be read (the others are still summed).
int cmd_stats_fleet(const std::vector<std::string>& nodes, bool json);

}  // namespace peaknet::ctl
