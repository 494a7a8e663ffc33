#include "delivery_view.hpp"

#include <fmt/format.h>

namespace peaknet::ctl {

double Delivery::seq_expected() const {
  double sum = 0;
  for (const auto& [id, p] : producers) sum += p.next_seq;
  return sum;
}

Delivery delivery_of(const Snapshot& s) {
  Delivery out;
  for (const auto& d : s.daemons) {
    if (d.daemon != "ingestd") continue;
    auto get = [&](const char* name) {
      const auto it = d.counters.find(name);
      return it == d.counters.end() ? 0.0 : it->second;
    };
    out.peers_connected += get("peers_connected");
    out.peer_connects += get("peer_connects");
    out.peer_disconnects += get("peer_disconnects");
    out.events_lost_in_crash += get("dropped_lost_in_crash");
    out.messages_lost_in_crash += get("messages_lost_in_crash");
    out.seq_events += get("seq_events");
    out.seq_untracked_events += get("seq_untracked_events");
    for (const auto& [name, value] : d.counters) {
      if (name.rfind("producer.", 0) != 0) continue;
      const size_t dot = name.find('.', 9);
      if (dot == std::string::npos) continue;
      auto& p = out.producers[name.substr(9, dot - 9)];
      const std::string what = name.substr(dot + 1);
      if (what == "events") p.events += value;
      if (what == "next_seq") p.next_seq = std::max(p.next_seq, value);
    }
  }
  return out;
}

nlohmann::json delivery_json(const Delivery& d) {
  nlohmann::json producers = nlohmann::json::object();
  for (const auto& [id, p] : d.producers) producers[id] = {{"events", p.events}, {"next_seq", p.next_seq}};
  return {{"peers_connected", d.peers_connected},
          {"peer_connects", d.peer_connects},
          {"peer_disconnects", d.peer_disconnects},
          {"events_lost_in_crash", d.events_lost_in_crash},
          {"messages_lost_in_crash", d.messages_lost_in_crash},
          {"seq_events", d.seq_events},
          {"seq_untracked_events", d.seq_untracked_events},
          {"seq_expected", d.seq_expected()},
          {"seq_not_seen", d.seq_not_seen()},
          {"producers", producers}};
}

std::string delivery_lines(const Delivery& d) {
  std::string out = fmt::format(
      "peers: {:.0f} connected ({:.0f} connects, {:.0f} disconnects); lost in crash: "
      "{:.0f} events, {:.0f} undecoded messages\n",
      d.peers_connected, d.peer_connects, d.peer_disconnects, d.events_lost_in_crash, d.messages_lost_in_crash);
  if (d.seq_events > 0 && d.seq_not_seen() < 0) {  // numbers came more than once: not a gap count
    out += fmt::format(
        "producer sequence: {} producers, {:.0f} events with a number but only {:.0f} numbers: {:.0f} repeated "
        "(a producer that resends or replays numbered messages)\n",
        d.producers.size(), d.seq_events - d.seq_untracked_events, d.seq_expected(), -d.seq_not_seen());
  } else if (d.seq_events > 0) {
    out += fmt::format(
        "producer sequence: {} producers, {:.0f} events with a number, {:.0f} numbers not seen here "
        "(sent to other nodes, or lost: peakctl stats --fleet)\n",
        d.producers.size(), d.seq_events, d.seq_not_seen());
  }
  return out;
}

std::string peer_table_lines(const nlohmann::json& stats, size_t max_rows) {
  std::string out;
  size_t rows = 0;
  for (const auto& ep : stats.value("endpoints", nlohmann::json::array())) {
    const auto& t = ep.value("peer_table", nlohmann::json::object());
    auto row = [&](const nlohmann::json& p, const char* state) {
      if (rows++ >= max_rows) return;
      out += fmt::format("{:<28} {:<12} {:>10} {:>14}  {}\n", p.value("address", std::string("?")), state,
                         p.value("messages", uint64_t{0}), p.value("bytes", uint64_t{0}),
                         ep.value("bound", std::string()));
    };
    for (const auto& p : t.value("connected", nlohmann::json::array())) row(p, "connected");
    for (const auto& p : t.value("disconnected", nlohmann::json::array())) row(p, "gone");
  }
  if (out.empty()) return out;
  std::string head =
      fmt::format("\n{:<28} {:<12} {:>10} {:>14}  {}\n", "PEER", "STATE", "MESSAGES", "BYTES", "ENDPOINT");
  if (rows > max_rows) out += fmt::format("... {} more peers (peakctl stats --json)\n", rows - max_rows);
  return head + out;
}

}  // namespace peaknet::ctl
