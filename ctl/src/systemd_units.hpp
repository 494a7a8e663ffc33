#pragma once
// peakctl's view of the systemd deployment: are the units installed, which unit runs a daemon id, the
// config file the units read, systemctl calls, and a unit's journal tail for error reports.
#include <string>
#include <vector>

#include "common/config/suite_config.hpp"

namespace peaknet::ctl {

/// The config the installed units read (ExecStart=... --config <this>).
std::string units_config_path();
/// True when systemd units for the suite are installed (peaknet.target found).
bool systemd_units_installed();
/// True when `peakctl start` would use the units: installed, control.use_systemd, no --no-systemd.
bool use_systemd(const config::SuiteConfig& cfg, bool no_systemd = false);
/// True when process `pid` runs inside one of the suite's units (its cgroup is a peaknet-*.service).
bool runs_in_unit(int pid);
/// "ingestd" -> "peaknet-ingestd.service", "inferd-cpu0" -> "peaknet-inferd@cpu0.service".
std::string unit_of(const std::string& id);
/// Runs `systemctl ARGS...` (echoed to stderr with a '+' unless `quiet`, which also drops its output);
/// true on exit status 0.
bool systemctl(const std::vector<std::string>& args, bool quiet = false);
/// `systemctl show -p Property --value UNIT` ("" when systemctl fails).
std::string unit_property(const std::string& unit, const std::string& property);
/// The last `lines` journal lines of `unit` (journalctl -u, this boot).
std::string journal_tail(const std::string& unit, int lines);

}  // namespace peaknet::ctl
