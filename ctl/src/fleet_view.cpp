#include "fleet_view.hpp"

#include <iostream>
#include <sstream>

#include <fmt/format.h>
#ifdef PEAKCTL_HAVE_HTTPLIB
#include <httplib.h>
#endif

#include "ctl_context.hpp"

namespace peaknet::ctl {

namespace {
/// Value of label `key` in `{a="x",b="y"}` ("" when absent).
std::string label(const std::string& labels, const std::string& key) {
  const std::string pat = key + "=\"";
  size_t at = labels.find(pat);
  while (at != std::string::npos && at > 0 && labels[at - 1] != '{' && labels[at - 1] != ',') {
    at = labels.find(pat, at + 1);
  }
  if (at == std::string::npos) return "";
  const size_t start = at + pat.size(), end = labels.find('"', start);
  return end == std::string::npos ? "" : labels.substr(start, end - start);
}
}  // namespace

NodeReading parse_node_metrics(const std::string& node, const std::string& text) {
  NodeReading r;
  r.node = node;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t brace = line.find('{'), space = line.rfind(' ');
    if (space == std::string::npos) continue;
    const std::string name = line.substr(0, std::min(brace, space));
    const std::string labels = brace < space ? line.substr(brace, space - brace) : "";
    double value = 0;
    try {
      value = std::stod(line.substr(space + 1));
    } catch (const std::exception&) {
      continue;
    }
    if (name == "peaknet_ledger_events") r.ledger[label(labels, "column")] += value;
    else if (name == "peaknet_dropped_lost_in_crash_total") r.events_lost_in_crash += value;
    else if (name == "peaknet_messages_lost_in_crash_total") r.messages_lost_in_crash += value;
    else if (name == "peaknet_seq_events_total") r.seq_events += value;
    else if (name == "peaknet_peers_connected") r.peers_connected += value;
    else if (name == "peaknet_producer_events_total") r.producer_events[label(labels, "producer")] += value;
    else if (name == "peaknet_producer_next_seq") {
      auto& v = r.producer_next_seq[label(labels, "producer")];
      v = std::max(v, value);
    }
  }
  return r;
}

FleetTotals sum_fleet(const std::vector<NodeReading>& nodes) {
  FleetTotals t;
  std::map<std::string, double> sent;  // producer -> max next_seq over nodes
  for (const auto& n : nodes) {
    if (!n.error.empty()) continue;
    for (const auto& [column, v] : n.ledger) t.ledger[column] += v;
    t.events_lost_in_crash += n.events_lost_in_crash;
    t.messages_lost_in_crash += n.messages_lost_in_crash;
    t.seq_events += n.seq_events;
    for (const auto& [p, v] : n.producer_events) t.seq_received += v;
    for (const auto& [p, v] : n.producer_next_seq) sent[p] = std::max(sent[p], v);
  }
  t.producers = static_cast<double>(sent.size());
  for (const auto& [p, v] : sent) t.seq_sent_seen += v;
  return t;
}

nlohmann::json fleet_json(const std::vector<NodeReading>& nodes, const FleetTotals& t) {
  nlohmann::json j = {{"nodes", nlohmann::json::array()}};
  for (const auto& n : nodes) {
    nlohmann::json nj = {{"node", n.node}};
    if (!n.error.empty()) {
      nj["error"] = n.error;
    } else {
      nj.update({{"ledger", n.ledger},
                 {"events_lost_in_crash", n.events_lost_in_crash},
                 {"messages_lost_in_crash", n.messages_lost_in_crash},
                 {"seq_events", n.seq_events},
                 {"peers_connected", n.peers_connected}});
    }
    j["nodes"].push_back(nj);
  }
  j["fleet"] = {{"ledger", t.ledger},
                {"events_lost_in_crash", t.events_lost_in_crash},
                {"messages_lost_in_crash", t.messages_lost_in_crash},
                {"producers", t.producers},
                {"seq_sent_seen", t.seq_sent_seen},
                {"seq_received", t.seq_received},
                {"lost_in_transit", t.lost_in_transit()}};
  return j;
}

std::string fleet_table(const std::vector<NodeReading>& nodes, const FleetTotals& t) {
  auto col = [](const std::map<std::string, double>& m, const char* c) {
    const auto it = m.find(c);
    return it == m.end() ? 0.0 : it->second;
  };
  std::string out = fmt::format("{:<24} {:>10} {:>10} {:>10} {:>10} {:>10} {:>12}\n", "NODE", "RECEIVED", "WRITTEN",
                                "FILTERED", "DROPPED", "IN_FLIGHT", "CRASH_LOST");
  auto row = [&](const std::string& name, const std::map<std::string, double>& l, double crash) {
    out += fmt::format("{:<24} {:>10.0f} {:>10.0f} {:>10.0f} {:>10.0f} {:>10.0f} {:>12.0f}\n", name, col(l, "received"),
                       col(l, "written"), col(l, "filtered"), col(l, "dropped"), col(l, "in_flight"), crash);
  };
  for (const auto& n : nodes) {
    if (!n.error.empty()) out += fmt::format("{:<24} unreadable: {}\n", n.node, n.error);
    else row(n.node, n.ledger, n.events_lost_in_crash);
  }
  row("fleet", t.ledger, t.events_lost_in_crash);
  if (t.producers > 0) {
    out += fmt::format(
        "producers: {:.0f}, sent up to their last delivered event {:.0f}, received {:.0f}, "
        "lost in transit {:.0f}\n",
        t.producers, t.seq_sent_seen, t.seq_received, t.lost_in_transit());
  } else {
    out += "producers: no sequence numbers seen (producer_id/producer_seq, docs/decoders.md)\n";
  }
  return out;
}

int cmd_stats_fleet(const std::vector<std::string>& nodes, bool json) {
  std::vector<NodeReading> readings;
  bool all = true;
  for (const auto& node : nodes) {
    NodeReading r;
#ifdef PEAKCTL_HAVE_HTTPLIB
    const size_t colon = node.rfind(':');
    if (colon == std::string::npos) {
      std::cerr << "peakctl stats --fleet: wants HOST:PORT, got \"" << node << "\"\n";
      return kUsage;
    }
    httplib::Client client(node.substr(0, colon), std::atoi(node.c_str() + colon + 1));
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(2, 0);
    if (auto res = client.Get("/metrics"); res && res->status == 200) {
      r = parse_node_metrics(node, res->body);
    } else {
      r.node = node;
      r.error = res ? "HTTP " + std::to_string(res->status) : httplib::to_string(res.error());
    }
#else
    r.node = node;
    r.error = "peakctl was built without cpp-httplib";
#endif
    all = all && r.error.empty();
    readings.push_back(std::move(r));
  }
  const FleetTotals t = sum_fleet(readings);
  if (json) std::cout << fleet_json(readings, t).dump(2) << "\n";
  else std::cout << fleet_table(readings, t);
  return all ? kOk : kFailed;
}

}  // namespace peaknet::ctl
