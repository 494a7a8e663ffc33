#include "stats_view.hpp"

#include <fmt/format.h>

#include "delivery_view.hpp"

namespace peaknet::ctl {

namespace {
const DaemonSample* find_prev(const Snapshot* prev, const std::string& id) {
  if (!prev) return nullptr;
  for (const auto& d : prev->daemons) {
    if (d.id == id) return &d;
  }
  return nullptr;
}

double rate_of(const DaemonSample& now, const DaemonSample* before, const std::string& name, double dt_s) {
  if (!before || dt_s <= 0) return 0;
  const auto a = now.counters.find(name);
  const auto b = before->counters.find(name);
  if (a == now.counters.end() || b == before->counters.end()) return 0;
  return std::max(0.0, (a->second - b->second) / dt_s);
}

std::string main_counter(const DaemonSample& d) {
  for (const char* name : {"events_received", "events_out", "events_in", "events_written"}) {
    if (d.counters.count(name)) return name;
  }
  return "";
}

std::string bytes_counter(const DaemonSample& d) {
  for (const char* name : {"bytes_received", "bytes_in", "bytes_out", "bytes_written"}) {
    if (d.counters.count(name)) return name;
  }
  return "";
}

double dt_seconds(const Snapshot& now, const Snapshot* prev) {
  return prev ? double(now.t_ns - prev->t_ns) / 1e9 : 0.0;
}

double to_ms(const std::string& name, double v) {
  auto ends = [&](const char* s) { return name.size() > 3 && name.compare(name.size() - 3, 3, s) == 0; };
  if (ends("_ms")) return v;
  if (ends("_us")) return v / 1e3;
  return v / 1e6;  // histograms record nanoseconds unless the name says otherwise
}

std::string hms(double s) {
  const auto t = static_cast<int64_t>(s);
  return fmt::format("{:02}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60);
}
}  // namespace

double event_rate(const DaemonSample& now, const Snapshot* prev, double dt_s) {
  const std::string name = main_counter(now);
  return name.empty() ? 0 : rate_of(now, find_prev(prev, now.id), name, dt_s);
}

std::string ledger_line(const Ledger& l) {
  return fmt::format("received {:.0f} = written {:.0f} + filtered {:.0f} + dropped {:.0f} + in flight {:.0f}",
                     l.received, l.written, l.filtered, l.dropped, l.in_flight);
}

std::string render_stats_table(const Snapshot& now, const Snapshot* prev, const std::string& title) {
  const double dt = dt_seconds(now, prev);
  std::string out = title + "\n\n";
  out += fmt::format("{:<12} {:<10} {:>8} {:>9} {:>12} {:>8} {:>12}  {}\n", "DAEMON", "STATE", "PID", "UPTIME",
                     "EVENTS/s", "GB/s", "EVENTS", "SOURCE");
  for (const auto& d : now.daemons) {
    const std::string events = main_counter(d), bytes = bytes_counter(d);
    const double gbps = bytes.empty() ? 0 : rate_of(d, find_prev(prev, d.id), bytes, dt) / 1e9;
    out += fmt::format("{:<12} {:<10} {:>8} {:>9} {:>12.1f} {:>8.3f} {:>12.0f}  {}\n", d.id, d.state, d.pid,
                       hms(d.uptime_s), event_rate(d, prev, dt), gbps, events.empty() ? 0.0 : d.counters.at(events),
                       d.source.empty() ? "-" : d.source);
  }
  if (!now.rings.empty()) {
    out += fmt::format("\n{:<8} {:>14} {:>7} {:>12} {:>12} {:>10}\n", "QUEUE", "FILL", "FILL%", "PUBLISHED", "RELEASED",
                       "DROPPED");
    for (const auto& r : now.rings) {
      out += fmt::format("{:<8} {:>14} {:>6.1f}% {:>12.0f} {:>12.0f} {:>10.0f}\n", r.name,
                         fmt::format("{:.0f}/{:.0f}", r.occupancy, r.slots),
                         r.slots > 0 ? 100.0 * r.occupancy / r.slots : 0.0, r.published, r.released, r.dropped);
    }
  }
  bool any_latency = false;
  for (const auto& d : now.daemons) {
    for (const auto& [name, l] : d.latencies) {
      if (!any_latency)
        out += fmt::format("\n{:<36} {:>10} {:>10} {:>10} {:>10}\n", "LATENCY (ms)", "p50", "p99", "max", "count");
      any_latency = true;
      out += fmt::format("{:<36} {:>10.3f} {:>10.3f} {:>10.3f} {:>10.0f}\n", d.id + " " + name, to_ms(name, l.p50),
                         to_ms(name, l.p99), to_ms(name, l.max), l.count);
    }
  }
  std::string gpu;
  for (const auto& d : now.daemons) {
    if (const auto it = d.counters.find("gpu_busy_pct"); it != d.counters.end()) {
      gpu += fmt::format("  {} {:.0f}%", d.id, it->second);
    }
  }
  const auto& l = now.ledger;
  const double judged = l.written + l.filtered;
  out += "\n";
  for (const auto& d : now.daemons) {
    if (!d.stall.empty()) out += fmt::format("STALLED {}: {}\n", d.id, d.stall);
    const auto dropped = d.counters.find("dropped_slot_too_small");
    const auto needed = d.counters.find("q1_slot_bytes_needed");
    if (dropped != d.counters.end() && dropped->second > 0 && needed != d.counters.end()) {
      out += fmt::format(
          "SLOTS TOO SMALL {}: {:.0f} events dropped, they need Q1 slots of {:.0f} bytes "
          "(config.q1.slot_bytes; peakctl doctor --message FILE)\n",
          d.id, dropped->second, needed->second);
    }
    // writerd.write_masks: hits written without their PeakNet mask (inferd died holding it, no CUDA, ...).
    if (const auto masks = d.counters.find("masks_missing"); masks != d.counters.end() && masks->second > 0) {
      out += fmt::format(
          "MASKS MISSING {}: {:.0f} hits written without their PeakNet mask (peakMaskStatus 2; "
          "reasons in its log)\n",
          d.id, masks->second);
    }
  }
  if (!gpu.empty()) out += "GPU busy:" + gpu + "\n";
  out += fmt::format("hit rate: {}\n", judged > 0 ? fmt::format("{:.1f}%", 100.0 * l.written / judged) : "-");
  if (!l.dropped_by_reason.empty()) {
    out += "drops:";
    for (const auto& [reason, n] : l.dropped_by_reason) out += fmt::format("  {} {:.0f}", reason, n);
    out += "\n";
  }
  out += "ledger: " + ledger_line(l) + "\n";
  for (const auto& d : now.daemons) {
    if (d.daemon == "ingestd") return out + delivery_lines(delivery_of(now));
  }
  return out;
}

nlohmann::json stats_to_json(const Snapshot& now, const Snapshot* prev) {
  const double dt = dt_seconds(now, prev);
  nlohmann::json j;
  j["interval_s"] = dt;
  j["daemons"] = nlohmann::json::array();
  for (const auto& d : now.daemons) {
    nlohmann::json dj = {{"id", d.id},
                         {"daemon", d.daemon},
                         {"instance", d.instance},
                         {"state", d.state},
                         {"pid", d.pid},
                         {"uptime_s", d.uptime_s},
                         {"source", d.source},
                         {"version", d.version},
                         {"config_digest", d.config_digest},
                         {"counters", d.counters}};
    if (!d.stall.empty()) dj["stall"] = d.stall;
    nlohmann::json rates = nlohmann::json::object();
    const DaemonSample* before = find_prev(prev, d.id);
    for (const auto& [name, v] : d.counters) {
      if (!d.is_gauge.count(name) || !d.is_gauge.at(name)) rates[name] = rate_of(d, before, name, dt);
    }
    dj["rates_per_s"] = rates;
    nlohmann::json lat = nlohmann::json::object();
    for (const auto& [name, l] : d.latencies) {
      lat[name] = {{"p50_ms", to_ms(name, l.p50)},
                   {"p99_ms", to_ms(name, l.p99)},
                   {"max_ms", to_ms(name, l.max)},
                   {"count", l.count}};
    }
    dj["latencies"] = lat;
    j["daemons"].push_back(dj);
  }
  j["queues"] = nlohmann::json::array();
  for (const auto& r : now.rings) {
    j["queues"].push_back({{"name", r.name},
                           {"slots", r.slots},
                           {"occupancy", r.occupancy},
                           {"published", r.published},
                           {"released", r.released},
                           {"dropped", r.dropped}});
  }
  const auto& l = now.ledger;
  j["ledger"] = {{"received", l.received},
                 {"written", l.written},
                 {"filtered", l.filtered},
                 {"dropped", l.dropped},
                 {"in_flight", l.in_flight},
                 {"dropped_by_reason", l.dropped_by_reason},
                 {"balanced_at_rest", l.balanced_at_rest()}};
  j["delivery"] = delivery_json(delivery_of(now));
  return j;
}

}  // namespace peaknet::ctl
