#include "systemd_units.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#ifndef PEAKNET_CONFIG_DIR
#define PEAKNET_CONFIG_DIR "/etc/peaknet"
#endif

namespace peaknet::ctl {

namespace fs = std::filesystem;

namespace {
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string capture(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}
}  // namespace

std::string units_config_path() { return std::string(PEAKNET_CONFIG_DIR) + "/peaknet.json"; }

bool systemd_units_installed() {
  for (const char* dir :
       {"/etc/systemd/system", "/usr/local/lib/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"}) {
    if (fs::exists(fs::path(dir) / "peaknet.target")) return true;
  }
  return false;
}

bool use_systemd(const config::SuiteConfig& cfg, bool no_systemd) {
  return !no_systemd && cfg.control.use_systemd && systemd_units_installed();
}

bool runs_in_unit(int pid) {
  if (pid <= 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  for (std::string line; std::getline(in, line);) {
    // "0::/system.slice/system-peaknet\x2dinferd.slice/peaknet-inferd@cpu0.service" (or a v1 hierarchy)
    const size_t slash = line.rfind('/');
    if (slash == std::string::npos) continue;
    const std::string leaf = line.substr(slash + 1);
    if (leaf.rfind("peaknet-", 0) == 0 && leaf.size() > 8 && leaf.substr(leaf.size() - 8) == ".service") return true;
  }
  return false;
}

std::string unit_of(const std::string& id) {
  const size_t dash = id.find('-');
  if (dash == std::string::npos) return "peaknet-" + id + ".service";
  return "peaknet-" + id.substr(0, dash) + "@" + id.substr(dash + 1) + ".service";
}

bool systemctl(const std::vector<std::string>& args, bool quiet) {
  std::string cmd = "systemctl";
  for (const auto& a : args) cmd += " " + quote(a);
  if (quiet) cmd += " >/dev/null 2>&1";
  else std::cerr << "+ " << cmd << "\n";
  std::fflush(nullptr);
  return std::system(cmd.c_str()) == 0;
}

std::string unit_property(const std::string& unit, const std::string& property) {
  std::string v = capture("systemctl show -p " + quote(property) + " --value " + quote(unit) + " 2>/dev/null");
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

std::string journal_tail(const std::string& unit, int lines) {
  return capture("journalctl -b --no-pager -o short-monotonic -n " + std::to_string(lines) + " -u " + quote(unit) +
                 " 2>&1");
}

}  // namespace peaknet::ctl
