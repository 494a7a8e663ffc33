#pragma once
// How `peakctl stats` shows a Snapshot: a `top`-like text table (rates from the previous snapshot) or
// JSON for scripts.
#include <string>

#include <nlohmann/json.hpp>

#include "stats_snapshot.hpp"

namespace peaknet::ctl {

/// `prev` may be null (no rates yet). `title` heads the table (run name, run dir).
std::string render_stats_table(const Snapshot& now, const Snapshot* prev, const std::string& title);
nlohmann::json stats_to_json(const Snapshot& now, const Snapshot* prev);
/// "received 1000 = written 300 + filtered 690 + dropped 0 + in flight 10".
std::string ledger_line(const Ledger& ledger);
/// Events/s of a daemon's main counter between two snapshots (0 without prev).
double event_rate(const DaemonSample& now, const Snapshot* prev, double dt_s);

}  // namespace peaknet::ctl
