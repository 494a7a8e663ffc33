// peakctl reconfigure key=value ... | --model PATH: live changes through the control sockets.
#include <algorithm>
#include <iostream>
#include <optional>
#include <vector>

#include "commands.hpp"
#include "common/control_client.hpp"
#include "systemd_units.hpp"

namespace peaknet::ctl {

namespace {
nlohmann::json parse_value(const std::string& text) {
  auto v = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return v.is_discarded() ? nlohmann::json(text) : v;
}

// Each daemon owns its live-key table; its `status` reply lists it. nullopt: the daemon did not answer.
std::optional<std::vector<std::string>> live_keys_of(const RunningDaemon& d, nlohmann::json& reply) {
  reply = common::control_request(d.endpoint, {{"cmd", "status"}});
  if (!reply.value("ok", false)) return std::nullopt;
  return reply.value("live_keys", std::vector<std::string>{});
}
}  // namespace

int cmd_reconfigure(const CtlOptions& o, const ReconfigureArgs& a) {
  const auto cfg = load_ctl_config(o);
  const std::string run_dir = ctl_run_dir(cfg);
  const auto daemons = discover_daemons(run_dir);
  if (daemons.empty()) {
    std::cerr << "peakctl reconfigure: nothing running in " << run_dir << "\n";
    return kNotRunning;
  }
  if (a.assignments.empty() && a.model_path.empty()) {
    std::cerr << "peakctl reconfigure: give key=value pairs or --model PATH\n";
    return kUsage;
  }
  int rc = kOk;
  nlohmann::json results = nlohmann::json::array();
  auto report = [&](const std::string& id, const std::string& what, const nlohmann::json& reply) {
    const bool ok = reply.value("ok", false);
    if (!ok) rc = kFailed;
    results.push_back({{"id", id}, {"change", what}, {"reply", reply}});
    if (!o.json) {
      std::cout << id << ": " << what << ": "
                << (ok ? "applied" : reply["error"].value("message", std::string("failed"))) << "\n";
    }
  };
  // Live keys per daemon, asked once; a daemon that does not answer is reported once, as a failure.
  std::vector<std::vector<std::string>> live(daemons.size());
  if (!a.assignments.empty()) {
    for (size_t i = 0; i < daemons.size(); ++i) {
      nlohmann::json reply;
      if (auto keys = live_keys_of(daemons[i], reply)) live[i] = std::move(*keys);
      else report(daemons[i].id, "status", reply);
    }
  }
  for (const auto& assignment : a.assignments) {
    const size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "peakctl reconfigure: \"" << assignment << "\" is not key=value\n";
      return kUsage;
    }
    const std::string key = assignment.substr(0, eq);
    const nlohmann::json value = parse_value(assignment.substr(eq + 1));
    bool sent = false;
    for (size_t i = 0; i < daemons.size(); ++i) {
      const auto& d = daemons[i];
      if (std::find(live[i].begin(), live[i].end(), key) == live[i].end()) continue;
      sent = true;
      report(d.id, key + "=" + value.dump(),
             common::control_request(d.endpoint, {{"cmd", "config_set"}, {"key", key}, {"value", value}}));
    }
    if (!sent) {
      rc = kFailed;
      // Units read their config file and refuse --set: name the file to edit instead.
      const bool units = runs_in_unit(read_pid_file(run_dir, daemons.front().id));
      const std::string msg = "config." + key + " cannot change while the suite runs; restart needed (" +
                              (units ? "set it in " + units_config_path() + ", then peakctl stop && peakctl start"
                                     : "peakctl stop && peakctl start --set " + assignment) +
                              ")";
      results.push_back({{"change", assignment}, {"reply", common::control_error("restart_required", msg)}});
      if (!o.json) std::cout << msg << "\n";
    }
  }
  if (!a.model_path.empty()) {
    bool any = false;
    for (const auto& d : daemons) {  // one inferd at a time: the others keep the pipeline flowing
      if (d.daemon != "inferd") continue;
      any = true;
      report(d.id, "model " + a.model_path,
             common::control_request(d.endpoint, {{"cmd", "swap_model"}, {"path", a.model_path}},
                                     std::chrono::milliseconds(600000)));
    }
    if (!any) {
      rc = kFailed;
      if (!o.json) std::cout << "no inferd running: nothing to swap\n";
    }
  }
  if (o.json) std::cout << results.dump(2) << "\n";
  return rc;
}

int cmd_config_get(const CtlOptions& o, const std::string& key) {
  const auto cfg = load_ctl_config(o);
  const std::string run_dir = ctl_run_dir(cfg);
  const auto daemons = discover_daemons(run_dir);
  if (daemons.empty()) {
    std::cerr << "peakctl config get: nothing running in " << run_dir << "\n";
    return kNotRunning;
  }
  int rc = kOk;
  nlohmann::json results = nlohmann::json::array();
  for (const auto& d : daemons) {
    const auto reply = common::control_request(d.endpoint, {{"cmd", "config_get"}, {"key", key}});
    if (!reply.value("ok", false)) rc = kFailed;
    results.push_back({{"id", d.id}, {"reply", reply}});
    if (o.json) continue;
    if (!reply.value("ok", false)) {
      std::cout << d.id << ": " << reply["error"].value("message", std::string("no reply")) << "\n";
    } else {
      std::cout << d.id << ": " << key << " = " << (reply.value("set", true) ? reply["value"].dump() : "(default)")
                << "\n";
    }
  }
  if (o.json) std::cout << results.dump(2) << "\n";
  return rc;
}

}  // namespace peaknet::ctl
