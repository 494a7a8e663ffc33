// The fleet view reads what the metrics endpoint writes: two nodes' snapshots through
// prometheus_text() and back through parse_node_metrics(), summed by sum_fleet().
#include <gtest/gtest.h>

#include "delivery_view.hpp"
#include "fleet_view.hpp"
#include "metrics.hpp"
#include "stats_snapshot.hpp"

namespace peaknet::ctl {
namespace {

DaemonSample ingestd(double received, double crash, std::map<std::string, double> producer_counters) {
  DaemonSample d;
  d.id = d.daemon = "ingestd";
  d.state = "ready";
  d.counters = {{"events_received", received}, {"dropped_lost_in_crash", crash}, {"seq_events", received}};
  for (auto& [name, v] : producer_counters) {
    d.counters[name] = v;
    d.is_gauge[name] = name.find("next_seq") != std::string::npos;
  }
  return d;
}

Snapshot node(DaemonSample d, double written) {
  Snapshot s;
  DaemonSample w;
  w.id = w.daemon = "writerd";
  w.counters = {{"events_written", written}};
  s.daemons = {std::move(d), w};
  s.ledger = compute_ledger(s.daemons);
  return s;
}

TEST(FleetView, LostInTransitIsHighestSequenceOverNodesMinusEventsReceived) {
  // Producer 0 sent 0..9: A got 5 of them, B 3 (two died in B's buffers); producer 1 sent 0..3, all
  // to A except its last one, which reached B.
  const Snapshot a = node(
      ingestd(
          8, 0,
          {{"producer.0.events", 5}, {"producer.0.next_seq", 9}, {"producer.1.events", 3}, {"producer.1.next_seq", 3}}),
      8);
  const Snapshot b = node(ingestd(4, 1,
                                  {{"producer.0.events", 3},
                                   {"producer.0.next_seq", 10},
                                   {"producer.1.events", 1},
                                   {"producer.1.next_seq", 4}}),
                          3);
  const std::vector<NodeReading> nodes = {parse_node_metrics("a:1", prometheus_text(a)),
                                          parse_node_metrics("b:1", prometheus_text(b))};
  EXPECT_EQ(nodes[1].producer_next_seq.at("0"), 10);
  EXPECT_EQ(nodes[1].events_lost_in_crash, 1);
  const FleetTotals t = sum_fleet(nodes);
  EXPECT_EQ(t.producers, 2);
  EXPECT_EQ(t.seq_sent_seen, 14);  // 10 + 4
  EXPECT_EQ(t.seq_received, 12);
  EXPECT_EQ(t.lost_in_transit(), 2);
  EXPECT_EQ(t.ledger.at("received"), 12);
  EXPECT_EQ(t.ledger.at("written"), 11);
  EXPECT_EQ(t.ledger.at("dropped"), 1);
  EXPECT_EQ(t.events_lost_in_crash, 1);
  const auto j = fleet_json(nodes, t);
  EXPECT_EQ(j["fleet"]["lost_in_transit"], 2);
  EXPECT_NE(fleet_table(nodes, t).find("lost in transit 2"), std::string::npos);
}

TEST(FleetView, ProducerCountersGetAProducerLabel) {
  const std::string text =
      prometheus_text(node(ingestd(1, 0, {{"producer.12.events", 1}, {"producer.12.next_seq", 1}}), 1));
  EXPECT_NE(text.find("peaknet_producer_events_total{daemon=\"ingestd\",instance=\"\",producer=\"12\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE peaknet_producer_next_seq gauge"), std::string::npos);
}

TEST(DeliveryView, OneNodesGapIsNotSeenHereNotLost) {
  const Delivery d = delivery_of(node(ingestd(5, 0, {{"producer.0.events", 5}, {"producer.0.next_seq", 9}}), 5));
  EXPECT_EQ(d.seq_expected(), 9);
  EXPECT_EQ(d.seq_not_seen(), 4);
  EXPECT_NE(delivery_lines(d).find("4 numbers not seen here"), std::string::npos);
}

TEST(DeliveryView, RepeatedNumbersAreSaidSoNotANegativeGap) {
  // A producer that resent its numbered messages (seen on a GPU node: a pusher resending one message).
  const Delivery d = delivery_of(node(ingestd(20, 0, {{"producer.0.events", 20}, {"producer.0.next_seq", 4}}), 20));
  const std::string lines = delivery_lines(d);
  EXPECT_NE(lines.find("20 events with a number but only 4 numbers: 16 repeated"), std::string::npos) << lines;
  EXPECT_EQ(lines.find("not seen here"), std::string::npos) << lines;
  EXPECT_EQ(lines.find("-16"), std::string::npos) << lines;
}

}  // namespace
}  // namespace peaknet::ctl
